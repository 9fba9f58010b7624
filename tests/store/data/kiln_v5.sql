-- A real schema-v5 run database, made by kiln 0.1.0 with schema 5, before schema 6 (sqlite3 runs/kiln.db .dump):
-- the run of kiln_v4.sql again (experiments/mlp.toml cut to 256 examples, summaries every 10, a checkpoint every
-- 10 (max_to_keep = 2), an evaluate hook (eval/mse every 15), threads = 1): mlp run to 20 steps, then resumed to
-- 30 (lr 1e-3); with --fresh, mlp-2 (lr 1e-2) and mlp-3 (lr 1e6, failed: its loss was not finite at step 1).
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
, device TEXT, device_name TEXT, device_memory INTEGER, torch_version TEXT, cuda_version TEXT, cudnn_version TEXT, precision TEXT);
INSERT INTO runs VALUES(1,'mlp','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.001\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'16fc92a06ae33618423be37c28b9ec4829c6f2dfcd50d50e1b9645d6e86ff288','completed',1796431914.9879243373,1796431915.3713059424,'vm',32692,'0.1.0','runs/mlp',NULL,'cpu',NULL,NULL,'1.13.0',NULL,NULL,'fp32');
INSERT INTO runs VALUES(2,'mlp-2','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.01\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'e3d5d82b8e4e91d0302f39c49d7e3a4f0ac16d0495ef1935886638549e42270b','completed',1796431915.7416355609,1796431915.7545623778,'vm',32706,'0.1.0','runs/mlp-2',NULL,'cpu',NULL,NULL,'1.13.0',NULL,NULL,'fp32');
INSERT INTO runs VALUES(3,'mlp-3','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 1e+06\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'25fb741dee7f8061741cbabb1e5a7db5885d91b836f8d0a0b6f90f2cd816cf62','failed',1796431918.7356934546,1796431918.7399876117,'vm',314,'0.1.0','runs/mlp-3','step 1: step 1, phase adam: loss mse is not finite (on_nan = "stop")','cpu',NULL,NULL,'1.13.0',NULL,NULL,'fp32');
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
INSERT INTO plugins VALUES(1,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dcd938e6bb78bedb99e3afbd86043f18cf7e4915690b6d3250b6ca526a9e29f2','1.0.0',3);
INSERT INTO plugins VALUES(1,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','4eded52f7d95fa1e199381681f4060a40508090d2b2176445f9c6a2f2dc67968','1.0.0',3);
INSERT INTO plugins VALUES(1,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','1eeea122f4b413320aea005dfda3a6164d9295528f6485bed54e605e91693a7f','1.0.0',3);
INSERT INTO plugins VALUES(1,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','d775f24508b358bfb4fdaaf34ad91e214be96368b17d711bf1782c4943b91d95','1.0.0',3);
INSERT INTO plugins VALUES(2,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dcd938e6bb78bedb99e3afbd86043f18cf7e4915690b6d3250b6ca526a9e29f2','1.0.0',3);
INSERT INTO plugins VALUES(2,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','4eded52f7d95fa1e199381681f4060a40508090d2b2176445f9c6a2f2dc67968','1.0.0',3);
INSERT INTO plugins VALUES(2,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','1eeea122f4b413320aea005dfda3a6164d9295528f6485bed54e605e91693a7f','1.0.0',3);
INSERT INTO plugins VALUES(2,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','d775f24508b358bfb4fdaaf34ad91e214be96368b17d711bf1782c4943b91d95','1.0.0',3);
INSERT INTO plugins VALUES(3,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dcd938e6bb78bedb99e3afbd86043f18cf7e4915690b6d3250b6ca526a9e29f2','1.0.0',3);
INSERT INTO plugins VALUES(3,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','4eded52f7d95fa1e199381681f4060a40508090d2b2176445f9c6a2f2dc67968','1.0.0',3);
INSERT INTO plugins VALUES(3,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','1eeea122f4b413320aea005dfda3a6164d9295528f6485bed54e605e91693a7f','1.0.0',3);
INSERT INTO plugins VALUES(3,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','d775f24508b358bfb4fdaaf34ad91e214be96368b17d711bf1782c4943b91d95','1.0.0',3);
CREATE TABLE summaries (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, tag, step)
) WITHOUT ROWID;
INSERT INTO summaries VALUES(1,'eval/mse',0,0.33655856549739837646,1796431914.9899821282);
INSERT INTO summaries VALUES(1,'eval/mse',15,0.35775524377822875976,1796431914.9956328868);
INSERT INTO summaries VALUES(1,'eval/mse',20,0.37776271626353263854,1796431914.9967341422);
INSERT INTO summaries VALUES(1,'eval/mse',30,0.4417179785668849945,1796431915.3683235645);
INSERT INTO summaries VALUES(1,'loss/mse',0,0.38537636399269104003,1796431914.991621971);
INSERT INTO summaries VALUES(1,'loss/mse',10,0.15144748985767364501,1796431914.9939408302);
INSERT INTO summaries VALUES(1,'loss/mse',19,0.11971978098154067993,1796431914.9966681003);
INSERT INTO summaries VALUES(1,'loss/mse',20,0.11194415390491485595,1796431915.3667519092);
INSERT INTO summaries VALUES(1,'loss/mse',29,0.076552383601665496826,1796431915.3684632778);
INSERT INTO summaries VALUES(1,'time/step_ms',0,1.6357010000000000715,1796431914.9916341305);
INSERT INTO summaries VALUES(1,'time/step_ms',10,0.23205930000000002388,1796431914.9939413071);
INSERT INTO summaries VALUES(1,'time/step_ms',19,0.3030744444444444241,1796431914.9966685772);
INSERT INTO summaries VALUES(1,'time/step_ms',20,0.93474500000000004806,1796431915.3667531013);
INSERT INTO summaries VALUES(1,'time/step_ms',29,0.19032622222222222996,1796431915.3684635162);
INSERT INTO summaries VALUES(2,'eval/mse',0,0.33655856549739837646,1796431915.7441461086);
INSERT INTO summaries VALUES(2,'eval/mse',15,0.50647731870412826538,1796431915.7488684654);
INSERT INTO summaries VALUES(2,'eval/mse',30,0.41517425328493118286,1796431915.7529563904);
INSERT INTO summaries VALUES(2,'loss/mse',0,0.38537636399269104003,1796431915.7450439929);
INSERT INTO summaries VALUES(2,'loss/mse',10,0.046305056661367416381,1796431915.7472813129);
INSERT INTO summaries VALUES(2,'loss/mse',20,0.015308953821659088134,1796431915.7503280639);
INSERT INTO summaries VALUES(2,'loss/mse',29,0.012466110289096832275,1796431915.7530426978);
INSERT INTO summaries VALUES(2,'time/step_ms',0,0.89424400000000003885,1796431915.745054245);
INSERT INTO summaries VALUES(2,'time/step_ms',10,0.22389709999999998779,1796431915.7472822666);
INSERT INTO summaries VALUES(2,'time/step_ms',20,0.30464859999999999162,1796431915.7503283023);
INSERT INTO summaries VALUES(2,'time/step_ms',29,0.30165688888888886332,1796431915.7530426978);
INSERT INTO summaries VALUES(3,'eval/mse',0,0.33655856549739837646,1796431918.7386171818);
INSERT INTO summaries VALUES(3,'loss/mse',0,0.38537636399269104003,1796431918.7396886348);
INSERT INTO summaries VALUES(3,'time/step_ms',0,1.0674330000000000762,1796431918.7397022247);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  time REAL NOT NULL,
  step INTEGER,
  kind TEXT NOT NULL,
  message TEXT
);
INSERT INTO events VALUES(1,1,1796431914.9895386695,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(2,1,1796431914.9899892806,0,'start','run mlp starts at step 0 of 20');
INSERT INTO events VALUES(3,1,1796431914.995572567,10,'save','saved step 10 to /tmp/v5/runs/mlp/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(4,1,1796431914.9981417655,20,'save','saved step 20 to /tmp/v5/runs/mlp/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(5,1,1796431914.9981806278,20,'stop','finished at step 20 after 0.0 s');
INSERT INTO events VALUES(6,1,1796431915.3644280433,NULL,'resume','resuming run mlp (it was completed) with a changed experiment: experiment.max_steps');
INSERT INTO events VALUES(7,1,1796431915.3658106326,20,'restore','restored step 20 from /tmp/v5/runs/mlp/checkpoints/ckpt-20.kiln');
INSERT INTO events VALUES(8,1,1796431915.3658189773,20,'start','run mlp starts at step 20 of 30');
INSERT INTO events VALUES(9,1,1796431915.371222496,30,'save','saved step 30 to /tmp/v5/runs/mlp/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(10,1,1796431915.3712592125,30,'stop','finished at step 30 after 0.0 s');
INSERT INTO events VALUES(11,2,1796431915.7438108921,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(12,2,1796431915.744150877,0,'start','run mlp-2 starts at step 0 of 30');
INSERT INTO events VALUES(13,2,1796431915.7489650248,10,'save','saved step 10 to /tmp/v5/runs/mlp-2/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(14,2,1796431915.751745224,20,'save','saved step 20 to /tmp/v5/runs/mlp-2/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(15,2,1796431915.7544796466,30,'save','saved step 30 to /tmp/v5/runs/mlp-2/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(16,2,1796431915.7545154095,30,'stop','finished at step 30 after 0.0 s');
INSERT INTO events VALUES(17,3,1796431918.7382171154,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(18,3,1796431918.7386243343,0,'start','run mlp-3 starts at step 0 of 30');
INSERT INTO events VALUES(19,3,1796431918.7398228644,1,'nan','step 1, phase adam: loss mse is not finite');
INSERT INTO events VALUES(20,3,1796431918.7399094105,1,'failure','step 1: step 1, phase adam: loss mse is not finite (on_nan = "stop")');
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
INSERT INTO checkpoints VALUES(1,1,10,'/tmp/v5/runs/mlp/checkpoints/ckpt-10.kiln',70007,'c9127d860d11a61e663c68947fa01eda1a36a63978127a6774fe2eabbaaaf982',1796431914.9932844639,'steps',NULL,1796431915.3683948516);
INSERT INTO checkpoints VALUES(2,1,20,'/tmp/v5/runs/mlp/checkpoints/ckpt-20.kiln',70007,'cb03999e203fb2f88f116a16e5e2e1b95df4e08c747c71bae0aaf39ec971e55e',1796431914.9966478348,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(3,1,30,'/tmp/v5/runs/mlp/checkpoints/ckpt-30.kiln',70007,'e7097910052cfa699a3b4efd419f64061985754030df0e11af010282ab5a68a5',1796431915.3683948516,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(4,2,10,'/tmp/v5/runs/mlp-2/checkpoints/ckpt-10.kiln',70007,'dce32e0c4e62541b0293438f18b052b6e402f1ca166b8c645b191d6aecffd7d7',1796431915.7466573715,'steps',NULL,1796431915.7530264855);
INSERT INTO checkpoints VALUES(5,2,20,'/tmp/v5/runs/mlp-2/checkpoints/ckpt-20.kiln',70007,'1c03e945d193593df5a07dc6b95302ef32f07525a916bb7bdd03b2386bb802ab',1796431915.7498145103,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(6,2,30,'/tmp/v5/runs/mlp-2/checkpoints/ckpt-30.kiln',70007,'7ffe625dd3ed8682a50e61978d8a3bde976afb27c03ed4690386119ec65ac3a4',1796431915.7530264855,'steps','max_to_keep',NULL);
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
CREATE INDEX summaries_by_value ON summaries (run_id, tag, value, step);
CREATE VIEW metrics_last AS
SELECT r.id AS run_id, r.name AS run, t.value AS tag, s.step, s.value, s.wall_time
FROM runs r
CROSS JOIN json_each((WITH RECURSIVE tags(tag) AS (
                        SELECT min(tag) FROM summaries WHERE run_id = r.id
                        UNION ALL
                        SELECT (SELECT min(n.tag) FROM summaries n WHERE n.run_id = r.id AND n.tag > tags.tag)
                        FROM tags WHERE tags.tag IS NOT NULL)
                      SELECT json_group_array(tag) FROM tags WHERE tag IS NOT NULL)) AS t
CROSS JOIN summaries s
  ON s.run_id = r.id AND s.tag = t.value
 AND s.step = (SELECT max(m.step) FROM summaries m WHERE m.run_id = r.id AND m.tag = t.value);
CREATE VIEW metrics_best AS
SELECT b.run_id, b.run, b.tag,
       b.min_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.min_value) AS min_step,
       b.max_value,
       (SELECT min(m.step) FROM summaries m
        WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.max_value) AS max_step
FROM (SELECT l.run_id, l.run, l.tag,
             (SELECT min(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS min_value,
             (SELECT max(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS max_value
      FROM metrics_last l) AS b;
CREATE VIEW run_overview AS
SELECT r.id, r.name, r.status, r.experiment,
       (SELECT max(l.step) + 1 FROM metrics_last l WHERE l.run_id = r.id AND l.tag GLOB 'loss/*') AS steps,
       datetime(r.started, 'unixepoch', 'localtime') AS started,
       datetime(r.ended, 'unixepoch', 'localtime') AS ended,
       round(CASE WHEN r.ended IS NOT NULL THEN r.ended
                  WHEN r.status = 'running' THEN (julianday('now') - 2440587.5) * 86400.0
             END - r.started, 3) AS duration_s,
       (SELECT json_group_object(substr(l.tag, 6), l.value) FROM metrics_last l
        WHERE l.run_id = r.id AND l.tag GLOB 'loss/*') AS losses,
       (SELECT json_group_object(substr(l.tag, 6), l.value) FROM metrics_last l
        WHERE l.run_id = r.id AND l.tag GLOB 'eval/*') AS eval,
       c.step AS latest_checkpoint_step,
       c.path AS latest_checkpoint,
       r.error
FROM runs r
LEFT JOIN checkpoints c ON c.run_id = r.id AND c.step =
  (SELECT max(k.step) FROM checkpoints k WHERE k.run_id = r.id AND k.deleted IS NULL);
COMMIT;
PRAGMA user_version=5;
