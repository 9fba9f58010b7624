-- A real schema-v4 run database, made by kiln 0.1.0 with schema 4, before schema 5 (sqlite3 runs/kiln.db .dump):
-- experiments/mlp.toml cut to 256 examples, summaries every 10, a checkpoint every 10 (max_to_keep = 2),
-- an evaluate hook (eval/mse every 15) and eval data, threads = 1: mlp run to 20 steps, then resumed to 30
-- (lr 1e-3); with --fresh, mlp-2 (lr 1e-2) and mlp-3 (lr 1e6, failed: its loss was not finite at step 1).
-- .dump leaves out user_version: see the end.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  experiment TEXT NOT NULL,
  config TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('running', 'completed', 'stopped', 'failed', 'crashed')),
  started REAL NOT NULL,
  ended REAL,
  host TEXT,
  pid INTEGER,
  kiln_version TEXT,
  run_dir TEXT,
  error TEXT
);
INSERT INTO runs VALUES(1,'mlp','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.001\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'16fc92a06ae33618423be37c28b9ec4829c6f2dfcd50d50e1b9645d6e86ff288','completed',1796422088.9557225704,1796422089.6568477153,'vm',20780,'0.1.0','runs/mlp',NULL);
INSERT INTO runs VALUES(2,'mlp-2','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.01\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'e3d5d82b8e4e91d0302f39c49d7e3a4f0ac16d0495ef1935886638549e42270b','completed',1796422090.1448073387,1796422090.2328681946,'vm',20795,'0.1.0','runs/mlp-2',NULL);
INSERT INTO runs VALUES(3,'mlp-3','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 1e+06\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'25fb741dee7f8061741cbabb1e5a7db5885d91b836f8d0a0b6f90f2cd816cf62','failed',1796422090.6608173847,1796422090.6649060249,'vm',20804,'0.1.0','runs/mlp-3','step 1: step 1, phase adam: loss mse is not finite (on_nan = "stop")');
CREATE TABLE params (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (run_id, key)
);
INSERT INTO params VALUES(1,'data.batch_size','64');
INSERT INTO params VALUES(1,'data.inputs','16');
INSERT INTO params VALUES(1,'data.noise','0.01');
INSERT INTO params VALUES(1,'data.outputs','1');
INSERT INTO params VALUES(1,'data.plugin','synthetic_regression');
INSERT INTO params VALUES(1,'data.shuffle','true');
INSERT INTO params VALUES(1,'data.size','256');
INSERT INTO params VALUES(1,'data.workers','1');
INSERT INTO params VALUES(1,'eval_data.inputs','16');
INSERT INTO params VALUES(1,'eval_data.plugin','synthetic_regression');
INSERT INTO params VALUES(1,'eval_data.size','32');
INSERT INTO params VALUES(1,'experiment.max_steps','30');
INSERT INTO params VALUES(1,'experiment.name','mlp');
INSERT INTO params VALUES(1,'experiment.seed','42');
INSERT INTO params VALUES(1,'experiment.threads','1');
INSERT INTO params VALUES(1,'hooks.evaluate.count','32');
INSERT INTO params VALUES(1,'hooks.evaluate.every_steps','15');
INSERT INTO params VALUES(1,'hooks.evaluate.metric','mse');
INSERT INTO params VALUES(1,'hooks.evaluate.plugin','evaluate');
INSERT INTO params VALUES(1,'hooks.evaluate.prediction','prediction');
INSERT INTO params VALUES(1,'hooks.evaluate.target','y');
INSERT INTO params VALUES(1,'losses.mse.plugin','mse');
INSERT INTO params VALUES(1,'losses.mse.prediction','prediction');
INSERT INTO params VALUES(1,'losses.mse.target','y');
INSERT INTO params VALUES(1,'model.hidden','[ 64, 64 ]');
INSERT INTO params VALUES(1,'model.inputs','16');
INSERT INTO params VALUES(1,'model.outputs','1');
INSERT INTO params VALUES(1,'model.plugin','mlp');
INSERT INTO params VALUES(1,'optimizers.adam.losses','[ ''mse'' ]');
INSERT INTO params VALUES(1,'optimizers.adam.lr','0.001');
INSERT INTO params VALUES(1,'optimizers.adam.name','adam');
INSERT INTO params VALUES(1,'optimizers.adam.params','all');
INSERT INTO params VALUES(1,'optimizers.adam.type','adam');
INSERT INTO params VALUES(1,'saver.every_steps','10');
INSERT INTO params VALUES(1,'saver.max_to_keep','2');
INSERT INTO params VALUES(1,'supervisor.log_every_steps','0');
INSERT INTO params VALUES(1,'supervisor.summary_every_steps','10');
INSERT INTO params VALUES(2,'data.batch_size','64');
INSERT INTO params VALUES(2,'data.inputs','16');
INSERT INTO params VALUES(2,'data.noise','0.01');
INSERT INTO params VALUES(2,'data.outputs','1');
INSERT INTO params VALUES(2,'data.plugin','synthetic_regression');
INSERT INTO params VALUES(2,'data.shuffle','true');
INSERT INTO params VALUES(2,'data.size','256');
INSERT INTO params VALUES(2,'data.workers','1');
INSERT INTO params VALUES(2,'eval_data.inputs','16');
INSERT INTO params VALUES(2,'eval_data.plugin','synthetic_regression');
INSERT INTO params VALUES(2,'eval_data.size','32');
INSERT INTO params VALUES(2,'experiment.max_steps','30');
INSERT INTO params VALUES(2,'experiment.name','mlp');
INSERT INTO params VALUES(2,'experiment.seed','42');
INSERT INTO params VALUES(2,'experiment.threads','1');
INSERT INTO params VALUES(2,'hooks.evaluate.count','32');
INSERT INTO params VALUES(2,'hooks.evaluate.every_steps','15');
INSERT INTO params VALUES(2,'hooks.evaluate.metric','mse');
INSERT INTO params VALUES(2,'hooks.evaluate.plugin','evaluate');
INSERT INTO params VALUES(2,'hooks.evaluate.prediction','prediction');
INSERT INTO params VALUES(2,'hooks.evaluate.target','y');
INSERT INTO params VALUES(2,'losses.mse.plugin','mse');
INSERT INTO params VALUES(2,'losses.mse.prediction','prediction');
INSERT INTO params VALUES(2,'losses.mse.target','y');
INSERT INTO params VALUES(2,'model.hidden','[ 64, 64 ]');
INSERT INTO params VALUES(2,'model.inputs','16');
INSERT INTO params VALUES(2,'model.outputs','1');
INSERT INTO params VALUES(2,'model.plugin','mlp');
INSERT INTO params VALUES(2,'optimizers.adam.losses','[ ''mse'' ]');
INSERT INTO params VALUES(2,'optimizers.adam.lr','0.01');
INSERT INTO params VALUES(2,'optimizers.adam.name','adam');
INSERT INTO params VALUES(2,'optimizers.adam.params','all');
INSERT INTO params VALUES(2,'optimizers.adam.type','adam');
INSERT INTO params VALUES(2,'saver.every_steps','10');
INSERT INTO params VALUES(2,'saver.max_to_keep','2');
INSERT INTO params VALUES(2,'supervisor.log_every_steps','0');
INSERT INTO params VALUES(2,'supervisor.summary_every_steps','10');
INSERT INTO params VALUES(3,'data.batch_size','64');
INSERT INTO params VALUES(3,'data.inputs','16');
INSERT INTO params VALUES(3,'data.noise','0.01');
INSERT INTO params VALUES(3,'data.outputs','1');
INSERT INTO params VALUES(3,'data.plugin','synthetic_regression');
INSERT INTO params VALUES(3,'data.shuffle','true');
INSERT INTO params VALUES(3,'data.size','256');
INSERT INTO params VALUES(3,'data.workers','1');
INSERT INTO params VALUES(3,'eval_data.inputs','16');
INSERT INTO params VALUES(3,'eval_data.plugin','synthetic_regression');
INSERT INTO params VALUES(3,'eval_data.size','32');
INSERT INTO params VALUES(3,'experiment.max_steps','30');
INSERT INTO params VALUES(3,'experiment.name','mlp');
INSERT INTO params VALUES(3,'experiment.seed','42');
INSERT INTO params VALUES(3,'experiment.threads','1');
INSERT INTO params VALUES(3,'hooks.evaluate.count','32');
INSERT INTO params VALUES(3,'hooks.evaluate.every_steps','15');
INSERT INTO params VALUES(3,'hooks.evaluate.metric','mse');
INSERT INTO params VALUES(3,'hooks.evaluate.plugin','evaluate');
INSERT INTO params VALUES(3,'hooks.evaluate.prediction','prediction');
INSERT INTO params VALUES(3,'hooks.evaluate.target','y');
INSERT INTO params VALUES(3,'losses.mse.plugin','mse');
INSERT INTO params VALUES(3,'losses.mse.prediction','prediction');
INSERT INTO params VALUES(3,'losses.mse.target','y');
INSERT INTO params VALUES(3,'model.hidden','[ 64, 64 ]');
INSERT INTO params VALUES(3,'model.inputs','16');
INSERT INTO params VALUES(3,'model.outputs','1');
INSERT INTO params VALUES(3,'model.plugin','mlp');
INSERT INTO params VALUES(3,'optimizers.adam.losses','[ ''mse'' ]');
INSERT INTO params VALUES(3,'optimizers.adam.lr','1e+06');
INSERT INTO params VALUES(3,'optimizers.adam.name','adam');
INSERT INTO params VALUES(3,'optimizers.adam.params','all');
INSERT INTO params VALUES(3,'optimizers.adam.type','adam');
INSERT INTO params VALUES(3,'saver.every_steps','10');
INSERT INTO params VALUES(3,'saver.max_to_keep','2');
INSERT INTO params VALUES(3,'supervisor.log_every_steps','0');
INSERT INTO params VALUES(3,'supervisor.summary_every_steps','10');
CREATE TABLE plugins (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  library TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT,
  version TEXT,
  abi INTEGER,
  PRIMARY KEY (run_id, kind, name)
);
INSERT INTO plugins VALUES(1,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dfacec2e061c844eef8f836fec4a5a538587cc69860150b552ab6f07b657e95b','1.0.0',2);
INSERT INTO plugins VALUES(1,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','a564cb93c4e496e823972ab857f360a4e99dadfbf1711d0dd9ac3e44d3bdea65','1.0.0',2);
INSERT INTO plugins VALUES(1,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','94640f07442a0c03acc2ea5ea3950409c211322b419b2dd430f5d05e12d4f2ec','1.0.0',2);
INSERT INTO plugins VALUES(1,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','4e08abd7c9405d80137ecf15c446c5d5896adc981afb2f2e9a50ffaa7acb2a1b','1.0.0',2);
INSERT INTO plugins VALUES(2,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dfacec2e061c844eef8f836fec4a5a538587cc69860150b552ab6f07b657e95b','1.0.0',2);
INSERT INTO plugins VALUES(2,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','a564cb93c4e496e823972ab857f360a4e99dadfbf1711d0dd9ac3e44d3bdea65','1.0.0',2);
INSERT INTO plugins VALUES(2,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','94640f07442a0c03acc2ea5ea3950409c211322b419b2dd430f5d05e12d4f2ec','1.0.0',2);
INSERT INTO plugins VALUES(2,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','4e08abd7c9405d80137ecf15c446c5d5896adc981afb2f2e9a50ffaa7acb2a1b','1.0.0',2);
INSERT INTO plugins VALUES(3,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dfacec2e061c844eef8f836fec4a5a538587cc69860150b552ab6f07b657e95b','1.0.0',2);
INSERT INTO plugins VALUES(3,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','a564cb93c4e496e823972ab857f360a4e99dadfbf1711d0dd9ac3e44d3bdea65','1.0.0',2);
INSERT INTO plugins VALUES(3,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','94640f07442a0c03acc2ea5ea3950409c211322b419b2dd430f5d05e12d4f2ec','1.0.0',2);
INSERT INTO plugins VALUES(3,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','4e08abd7c9405d80137ecf15c446c5d5896adc981afb2f2e9a50ffaa7acb2a1b','1.0.0',2);
CREATE TABLE summaries (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, tag, step)
) WITHOUT ROWID;
INSERT INTO summaries VALUES(1,'eval/mse',0,0.33655856549739837646,1796422088.9705586433);
INSERT INTO summaries VALUES(1,'eval/mse',15,0.35775524377822875976,1796422088.9763050079);
INSERT INTO summaries VALUES(1,'eval/mse',20,0.37776271626353263854,1796422088.9809896945);
INSERT INTO summaries VALUES(1,'eval/mse',30,0.4417179785668849945,1796422089.6259565353);
INSERT INTO summaries VALUES(1,'loss/mse',0,0.38537636399269104003,1796422088.9721348286);
INSERT INTO summaries VALUES(1,'loss/mse',10,0.15144748985767364501,1796422088.9754266739);
INSERT INTO summaries VALUES(1,'loss/mse',19,0.11971978098154067993,1796422088.9808609486);
INSERT INTO summaries VALUES(1,'loss/mse',20,0.11194415390491485595,1796422089.6243855953);
INSERT INTO summaries VALUES(1,'loss/mse',29,0.076552383601665496826,1796422089.6260437964);
INSERT INTO summaries VALUES(1,'time/step_ms',0,1.5678090000000000081,1796422088.9721484184);
INSERT INTO summaries VALUES(1,'time/step_ms',10,0.32973210000000002795,1796422088.9754283428);
INSERT INTO summaries VALUES(1,'time/step_ms',19,0.60347444444444442446,1796422088.9808614253);
INSERT INTO summaries VALUES(1,'time/step_ms',20,0.70608400000000004492,1796422089.6243863105);
INSERT INTO summaries VALUES(1,'time/step_ms',29,0.18433177777777778882,1796422089.6260442734);
INSERT INTO summaries VALUES(2,'eval/mse',0,0.33655856549739837646,1796422090.1664385795);
INSERT INTO summaries VALUES(2,'eval/mse',15,0.50647731870412826538,1796422090.1705539226);
INSERT INTO summaries VALUES(2,'eval/mse',30,0.41517425328493118286,1796422090.1867606639);
INSERT INTO summaries VALUES(2,'loss/mse',0,0.38537636399269104003,1796422090.1672320365);
INSERT INTO summaries VALUES(2,'loss/mse',10,0.046305056661367416381,1796422090.1698081493);
INSERT INTO summaries VALUES(2,'loss/mse',20,0.015308953821659088134,1796422090.1852314472);
INSERT INTO summaries VALUES(2,'loss/mse',29,0.012466110289096832275,1796422090.2089214325);
INSERT INTO summaries VALUES(2,'time/step_ms',0,0.7891979999999999551,1796422090.1672332287);
INSERT INTO summaries VALUES(2,'time/step_ms',10,0.25775259999999999838,1796422090.169825077);
INSERT INTO summaries VALUES(2,'time/step_ms',20,1.5423035000000000493,1796422090.1852321624);
INSERT INTO summaries VALUES(2,'time/step_ms',29,2.631388999999999978,1796422090.2089223861);
INSERT INTO summaries VALUES(3,'eval/mse',0,0.33655856549739837646,1796422090.6637272834);
INSERT INTO summaries VALUES(3,'loss/mse',0,0.38537636399269104003,1796422090.6646482944);
INSERT INTO summaries VALUES(3,'time/step_ms',0,0.9178800000000000292,1796422090.6646602153);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  time REAL NOT NULL,
  step INTEGER,
  kind TEXT NOT NULL,
  message TEXT
);
INSERT INTO events VALUES(1,1,1796422088.9700520038,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(2,1,1796422088.9705712794,0,'start','run mlp starts at step 0 of 20');
INSERT INTO events VALUES(3,1,1796422088.9806671142,10,'save','saved step 10 to /tmp/v4/runs/mlp/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(4,1,1796422089.0029592513,20,'save','saved step 20 to /tmp/v4/runs/mlp/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(5,1,1796422089.0030758381,20,'stop','finished at step 20 after 0.0 s');
INSERT INTO events VALUES(6,1,1796422089.6222951412,NULL,'resume','resuming run mlp (it was completed) with a changed experiment: experiment.max_steps');
INSERT INTO events VALUES(7,1,1796422089.6236114501,20,'restore','restored step 20 from /tmp/v4/runs/mlp/checkpoints/ckpt-20.kiln');
INSERT INTO events VALUES(8,1,1796422089.6236817836,20,'start','run mlp starts at step 20 of 30');
INSERT INTO events VALUES(9,1,1796422089.6566145419,30,'save','saved step 30 to /tmp/v4/runs/mlp/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(10,1,1796422089.6567192078,30,'stop','finished at step 30 after 0.0 s');
INSERT INTO events VALUES(11,2,1796422090.165946722,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(12,2,1796422090.1664490699,0,'start','run mlp-2 starts at step 0 of 30');
INSERT INTO events VALUES(13,2,1796422090.184615612,10,'save','saved step 10 to /tmp/v4/runs/mlp-2/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(14,2,1796422090.2086100577,20,'save','saved step 20 to /tmp/v4/runs/mlp-2/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(15,2,1796422090.2326183318,30,'save','saved step 30 to /tmp/v4/runs/mlp-2/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(16,2,1796422090.2327187061,30,'stop','finished at step 30 after 0.1 s');
INSERT INTO events VALUES(17,3,1796422090.6633350849,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(18,3,1796422090.6637337208,0,'start','run mlp-3 starts at step 0 of 30');
INSERT INTO events VALUES(19,3,1796422090.6647574902,1,'nan','step 1, phase adam: loss mse is not finite');
INSERT INTO events VALUES(20,3,1796422090.6648323536,1,'failure','step 1: step 1, phase adam: loss mse is not finite (on_nan = "stop")');
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created REAL NOT NULL,
  reason TEXT NOT NULL,
  kept TEXT,
  deleted REAL,
  UNIQUE (run_id, step)
);
INSERT INTO checkpoints VALUES(1,1,10,'/tmp/v4/runs/mlp/checkpoints/ckpt-10.kiln',69997,'4779605a409c0f9a558c56b27df2a53e2f62ba7d385e7233898b64f812199a42',1796422088.9746932983,'steps',NULL,1796422089.6260056495);
INSERT INTO checkpoints VALUES(2,1,20,'/tmp/v4/runs/mlp/checkpoints/ckpt-20.kiln',69997,'669ae941263fc3b1513b6e66b80169b43694321334fcac734d561e2e76fd4ce5',1796422088.9808342456,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(3,1,30,'/tmp/v4/runs/mlp/checkpoints/ckpt-30.kiln',69997,'406e3d293c4623e7d39220937e6435f632fd0a72e674bb1a78d1959ee5445f05',1796422089.6260056495,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(4,2,10,'/tmp/v4/runs/mlp-2/checkpoints/ckpt-10.kiln',69997,'52e7c7ad13749cfd4e0f9926e7db22443700e0f3009641d577c0f72db7566c5a',1796422090.1689801216,'steps',NULL,1796422090.2088663577);
INSERT INTO checkpoints VALUES(5,2,20,'/tmp/v4/runs/mlp-2/checkpoints/ckpt-20.kiln',69997,'b5d61f6d09b75d44b31c68fa40001fa68d1b41876692ad3fbb0c34a22621eb22',1796422090.1848125457,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(6,2,30,'/tmp/v4/runs/mlp-2/checkpoints/ckpt-30.kiln',69997,'a9c108c9735eaee02dc5407a2afe7a2f3557cad34f502ef97f09d3dad9ff21ae',1796422090.2088663577,'steps','max_to_keep',NULL);
CREATE TABLE retention (
  run_id INTEGER PRIMARY KEY REFERENCES runs(id),
  next_keep_time REAL
);
CREATE TABLE images (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, tag, step)
) WITHOUT ROWID;
CREATE INDEX events_by_run ON events (run_id, time);
CREATE INDEX summaries_by_tag ON summaries (tag, step);
CREATE INDEX params_by_key ON params (key, value);
CREATE VIEW metrics_last AS
SELECT r.id AS run_id, r.name AS run, s.tag, max(s.step) AS step, s.value, s.wall_time
FROM runs r JOIN summaries s ON s.run_id = r.id
GROUP BY r.id, r.name, s.tag;
CREATE VIEW metrics_best AS
SELECT b.run_id, b.run, b.tag,
       b.min_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.min_value) AS min_step,
       b.max_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.max_value) AS max_step
FROM (SELECT r.id AS run_id, r.name AS run, s.tag, min(s.value) AS min_value, max(s.value) AS max_value
      FROM runs r JOIN summaries s ON s.run_id = r.id
      GROUP BY r.id, r.name, s.tag) AS b;
CREATE VIEW run_overview AS
SELECT r.id, r.name, r.status, r.experiment,
       (SELECT max(s.step) + 1 FROM summaries s
        WHERE s.run_id = r.id AND s.tag GLOB 'loss/*') AS steps,
       datetime(r.started, 'unixepoch', 'localtime') AS started,
       datetime(r.ended, 'unixepoch', 'localtime') AS ended,
       round(CASE WHEN r.ended IS NOT NULL THEN r.ended
                  WHEN r.status = 'running' THEN (julianday('now') - 2440587.5) * 86400.0
             END - r.started, 3) AS duration_s,
       (SELECT json_group_object(substr(l.tag, 6), l.value)
        FROM (SELECT s.tag, max(s.step), s.value FROM summaries s
              WHERE s.run_id = r.id AND s.tag GLOB 'loss/*' GROUP BY s.tag) AS l) AS losses,
       (SELECT json_group_object(substr(l.tag, 6), l.value)
        FROM (SELECT s.tag, max(s.step), s.value FROM summaries s
              WHERE s.run_id = r.id AND s.tag GLOB 'eval/*' GROUP BY s.tag) AS l) AS eval,
       c.step AS latest_checkpoint_step,
       c.path AS latest_checkpoint,
       r.error
FROM runs r
LEFT JOIN checkpoints c ON c.run_id = r.id AND c.step =
  (SELECT max(k.step) FROM checkpoints k WHERE k.run_id = r.id AND k.deleted IS NULL);
COMMIT;
PRAGMA user_version=4;
