-- A real schema-v3 run database, made by kiln 0.1.0 before schema 4 (sqlite3 runs/kiln.db .dump):
-- experiments/mlp.toml cut to 30 steps, summaries every 10, a checkpoint every 10 (max_to_keep = 2),
-- an evaluate hook (eval/mse every 15), run three times with --fresh: mlp (lr 1e-3), mlp-2 (lr 1e-2)
-- and mlp-3 (lr 1e6, failed: its loss was not finite at step 1). .dump leaves out user_version: see the end.
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
INSERT INTO runs VALUES(1,'mlp','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.001\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'16fc92a06ae33618423be37c28b9ec4829c6f2dfcd50d50e1b9645d6e86ff288','completed',1795657777.6889131068,1795657777.6996028423,'vm',7411,'0.1.0','runs/mlp',NULL);
INSERT INTO runs VALUES(2,'mlp-2','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.01\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'e3d5d82b8e4e91d0302f39c49d7e3a4f0ac16d0495ef1935886638549e42270b','completed',1795657778.0357425212,1795657778.0464377403,'vm',7468,'0.1.0','runs/mlp-2',NULL);
INSERT INTO runs VALUES(3,'mlp-3','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 1e+06\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'25fb741dee7f8061741cbabb1e5a7db5885d91b836f8d0a0b6f90f2cd816cf62','failed',1795657788.4996631145,1795657788.5028419494,'vm',8381,'0.1.0','runs/mlp-3','step 1: step 1, phase adam: loss mse is not finite (on_nan = "stop")');
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
INSERT INTO plugins VALUES(1,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','9f2183c91a8ac94fe1acdb0bf2324938d20773bf0e9c04004733705b7fef761d','1.0.0',1);
INSERT INTO plugins VALUES(1,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','a9d7f7b50e71e7fbb5ef1b974541220ac8c905185c4d88f1120cf06f0e86d499','1.0.0',1);
INSERT INTO plugins VALUES(1,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','189b077dd36dd1b0b76edbe855ae712326c53dcfa4b779572fefec86e86f1579','1.0.0',1);
INSERT INTO plugins VALUES(1,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','4c7c7a596672e1ec339964a51e836bade9d6efa38f316d01864a54a1d0869060','1.0.0',1);
INSERT INTO plugins VALUES(2,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','9f2183c91a8ac94fe1acdb0bf2324938d20773bf0e9c04004733705b7fef761d','1.0.0',1);
INSERT INTO plugins VALUES(2,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','a9d7f7b50e71e7fbb5ef1b974541220ac8c905185c4d88f1120cf06f0e86d499','1.0.0',1);
INSERT INTO plugins VALUES(2,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','189b077dd36dd1b0b76edbe855ae712326c53dcfa4b779572fefec86e86f1579','1.0.0',1);
INSERT INTO plugins VALUES(2,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','4c7c7a596672e1ec339964a51e836bade9d6efa38f316d01864a54a1d0869060','1.0.0',1);
INSERT INTO plugins VALUES(3,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','9f2183c91a8ac94fe1acdb0bf2324938d20773bf0e9c04004733705b7fef761d','1.0.0',1);
INSERT INTO plugins VALUES(3,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','a9d7f7b50e71e7fbb5ef1b974541220ac8c905185c4d88f1120cf06f0e86d499','1.0.0',1);
INSERT INTO plugins VALUES(3,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','189b077dd36dd1b0b76edbe855ae712326c53dcfa4b779572fefec86e86f1579','1.0.0',1);
INSERT INTO plugins VALUES(3,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','4c7c7a596672e1ec339964a51e836bade9d6efa38f316d01864a54a1d0869060','1.0.0',1);
CREATE TABLE summaries (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, tag, step)
) WITHOUT ROWID;
INSERT INTO summaries VALUES(1,'eval/mse',0,0.33655856549739837646,1795657777.6898677349);
INSERT INTO summaries VALUES(1,'eval/mse',15,0.35775524377822875976,1795657777.6940133571);
INSERT INTO summaries VALUES(1,'eval/mse',30,0.4417179785668849945,1795657777.6980149745);
INSERT INTO summaries VALUES(1,'loss/mse',0,0.38537636399269104003,1795657777.6911373137);
INSERT INTO summaries VALUES(1,'loss/mse',10,0.15144748985767364501,1795657777.6931402683);
INSERT INTO summaries VALUES(1,'loss/mse',20,0.11194415390491485595,1795657777.6960654258);
INSERT INTO summaries VALUES(1,'loss/mse',29,0.076552383601665496826,1795657777.69809556);
INSERT INTO summaries VALUES(1,'time/step_ms',0,0.75947299999999995367,1795657777.6911389828);
INSERT INTO summaries VALUES(1,'time/step_ms',10,0.20070929999999997939,1795657777.6931409835);
INSERT INTO summaries VALUES(1,'time/step_ms',20,0.29249829999999998886,1795657777.696066141);
INSERT INTO summaries VALUES(1,'time/step_ms',29,0.22560644444444444278,1795657777.6980957984);
INSERT INTO summaries VALUES(2,'eval/mse',0,0.33655856549739837646,1795657778.0373587608);
INSERT INTO summaries VALUES(2,'eval/mse',15,0.50647731870412826538,1795657778.0415358543);
INSERT INTO summaries VALUES(2,'eval/mse',30,0.41517425328493118286,1795657778.0447359085);
INSERT INTO summaries VALUES(2,'loss/mse',0,0.38537636399269104003,1795657778.0385549068);
INSERT INTO summaries VALUES(2,'loss/mse',10,0.046305056661367416381,1795657778.0403542518);
INSERT INTO summaries VALUES(2,'loss/mse',20,0.015308953821659088134,1795657778.0432593822);
INSERT INTO summaries VALUES(2,'loss/mse',29,0.012466110289096832275,1795657778.0448095798);
INSERT INTO summaries VALUES(2,'time/step_ms',0,0.7070539999999999603,1795657778.0385560989);
INSERT INTO summaries VALUES(2,'time/step_ms',10,0.1803339999999999943,1795657778.0403547286);
INSERT INTO summaries VALUES(2,'time/step_ms',20,0.29049530000000001184,1795657778.0432600975);
INSERT INTO summaries VALUES(2,'time/step_ms',29,0.17228355555555555089,1795657778.0448095798);
INSERT INTO summaries VALUES(3,'eval/mse',0,0.33655856549739837646,1795657788.5013053417);
INSERT INTO summaries VALUES(3,'loss/mse',0,0.38537636399269104003,1795657788.5025579929);
INSERT INTO summaries VALUES(3,'time/step_ms',0,0.74835700000000004994,1795657788.5025589466);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  time REAL NOT NULL,
  step INTEGER,
  kind TEXT NOT NULL,
  message TEXT
);
INSERT INTO events VALUES(1,1,1795657777.690357685,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(2,1,1795657777.690375328,0,'start','run mlp starts at step 0 of 30');
INSERT INTO events VALUES(3,1,1795657777.6956844329,10,'save','saved step 10 to /tmp/v3/runs/mlp/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(4,1,1795657777.6974060535,20,'save','saved step 20 to /tmp/v3/runs/mlp/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(5,1,1795657777.6995131969,30,'save','saved step 30 to /tmp/v3/runs/mlp/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(6,1,1795657777.699548006,30,'stop','finished at step 30 after 0.0 s');
INSERT INTO events VALUES(7,2,1795657778.0378270149,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(8,2,1795657778.03784585,0,'start','run mlp-2 starts at step 0 of 30');
INSERT INTO events VALUES(9,2,1795657778.0428631305,10,'save','saved step 10 to /tmp/v3/runs/mlp-2/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(10,2,1795657778.0445692538,20,'save','saved step 20 to /tmp/v3/runs/mlp-2/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(11,2,1795657778.0463304519,30,'save','saved step 30 to /tmp/v3/runs/mlp-2/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(12,2,1795657778.0463695526,30,'stop','finished at step 30 after 0.0 s');
INSERT INTO events VALUES(13,3,1795657788.5017893314,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(14,3,1795657788.5018084048,0,'start','run mlp-3 starts at step 0 of 30');
INSERT INTO events VALUES(15,3,1795657788.5026700496,1,'nan','step 1, phase adam: loss mse is not finite');
INSERT INTO events VALUES(16,3,1795657788.5027418136,1,'failure','step 1: step 1, phase adam: loss mse is not finite (on_nan = "stop")');
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
INSERT INTO checkpoints VALUES(1,1,10,'/tmp/v3/runs/mlp/checkpoints/ckpt-10.kiln',69997,'4779605a409c0f9a558c56b27df2a53e2f62ba7d385e7233898b64f812199a42',1795657777.6928169727,'steps',NULL,1795657777.6980595589);
INSERT INTO checkpoints VALUES(2,1,20,'/tmp/v3/runs/mlp/checkpoints/ckpt-20.kiln',69997,'669ae941263fc3b1513b6e66b80169b43694321334fcac734d561e2e76fd4ce5',1795657777.6957924365,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(3,1,30,'/tmp/v3/runs/mlp/checkpoints/ckpt-30.kiln',69997,'406e3d293c4623e7d39220937e6435f632fd0a72e674bb1a78d1959ee5445f05',1795657777.6980595589,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(4,2,10,'/tmp/v3/runs/mlp-2/checkpoints/ckpt-10.kiln',69997,'52e7c7ad13749cfd4e0f9926e7db22443700e0f3009641d577c0f72db7566c5a',1795657778.0400989055,'steps',NULL,1795657778.0447788238);
INSERT INTO checkpoints VALUES(5,2,20,'/tmp/v3/runs/mlp-2/checkpoints/ckpt-20.kiln',69997,'b5d61f6d09b75d44b31c68fa40001fa68d1b41876692ad3fbb0c34a22621eb22',1795657778.0429689883,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(6,2,30,'/tmp/v3/runs/mlp-2/checkpoints/ckpt-30.kiln',69997,'a9c108c9735eaee02dc5407a2afe7a2f3557cad34f502ef97f09d3dad9ff21ae',1795657778.0447788238,'steps','max_to_keep',NULL);
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
COMMIT;
PRAGMA user_version=3;
