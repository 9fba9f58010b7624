-- A real schema-v6 run database, made by kiln 0.1.0 with schema 6, before schema 7 (sqlite3 runs/kiln.db .dump):
-- the runs of kiln_v5.sql again (the same experiment: 256 examples, summaries every 10, a checkpoint every 10
-- (max_to_keep = 2), an evaluate hook (eval/mse every 15), threads = 1): mlp run to 20 steps, then resumed to 30
-- (lr 1e-3); with --fresh, mlp-2 (lr 1e-2, --set "summaries.maximize=['eval/*']") and mlp-3 (lr 1e6, failed: its
-- loss was not finite at step 1). Every run recorded its environment (cpu, torch 1.13.0, fp32).
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
INSERT INTO runs VALUES(1,'mlp','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.001\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'16fc92a06ae33618423be37c28b9ec4829c6f2dfcd50d50e1b9645d6e86ff288','completed',1796442388.8956363201,1796442389.4111359119,'vm',30405,'0.1.0','runs/mlp',NULL,'cpu',NULL,NULL,'1.13.0',NULL,NULL,'fp32');
INSERT INTO runs VALUES(2,'mlp-2','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[summaries]\nmaximize = [ ''eval/*'' ]\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 0.01\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'597b42cdebc2e098f75735b872a53ce0357ad02424287a538f205cc8f05e1aa8','completed',1796442389.9228060245,1796442389.9401829242,'vm',30412,'0.1.0','runs/mlp-2',NULL,'cpu',NULL,NULL,'1.13.0',NULL,NULL,'fp32');
INSERT INTO runs VALUES(3,'mlp-3','mlp.toml',replace('[data]\nbatch_size = 64\ninputs = 16\nnoise = 0.01\noutputs = 1\nplugin = ''synthetic_regression''\nshuffle = true\nsize = 256\nworkers = 1\n\n[eval_data]\ninputs = 16\nplugin = ''synthetic_regression''\nsize = 32\n\n[experiment]\nmax_steps = 30\nname = ''mlp''\nseed = 42\nthreads = 1\n\n[model]\nhidden = [ 64, 64 ]\ninputs = 16\noutputs = 1\nplugin = ''mlp''\n\n[saver]\nevery_steps = 10\nmax_to_keep = 2\n\n[supervisor]\nlog_every_steps = 0\nsummary_every_steps = 10\n\n[[hooks]]\ncount = 32\nevery_steps = 15\nmetric = ''mse''\nplugin = ''evaluate''\nprediction = ''prediction''\ntarget = ''y''\n\n[[losses]]\nplugin = ''mse''\nprediction = ''prediction''\ntarget = ''y''\n\n[[optimizers]]\nlosses = [ ''mse'' ]\nlr = 1e+06\nname = ''adam''\nparams = ''all''\ntype = ''adam''\n','\n',char(10)),'25fb741dee7f8061741cbabb1e5a7db5885d91b836f8d0a0b6f90f2cd816cf62','failed',1796442390.6245751381,1796442390.6297235488,'vm',30421,'0.1.0','runs/mlp-3','step 1, phase adam: loss mse is not finite (on_nan = "stop")','cpu',NULL,NULL,'1.13.0',NULL,NULL,'fp32');
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
INSERT INTO params VALUES(2,'summaries.maximize','[ ''eval/*'' ]');
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
INSERT INTO plugins VALUES(1,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','70b451129d66352cd5c8cb4169d759c525221404e9a94f5ecaa873a93a55ead5','1.0.0',3);
INSERT INTO plugins VALUES(1,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','1eeea122f4b413320aea005dfda3a6164d9295528f6485bed54e605e91693a7f','1.0.0',3);
INSERT INTO plugins VALUES(1,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','fadc4ce5346101247428ad234cb4e67fd1f00a1834f0fddeb3f3592ca30d9f7d','1.0.0',3);
INSERT INTO plugins VALUES(2,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dcd938e6bb78bedb99e3afbd86043f18cf7e4915690b6d3250b6ca526a9e29f2','1.0.0',3);
INSERT INTO plugins VALUES(2,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','70b451129d66352cd5c8cb4169d759c525221404e9a94f5ecaa873a93a55ead5','1.0.0',3);
INSERT INTO plugins VALUES(2,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','1eeea122f4b413320aea005dfda3a6164d9295528f6485bed54e605e91693a7f','1.0.0',3);
INSERT INTO plugins VALUES(2,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','fadc4ce5346101247428ad234cb4e67fd1f00a1834f0fddeb3f3592ca30d9f7d','1.0.0',3);
INSERT INTO plugins VALUES(3,'model','mlp','mlp','/work/main/build/plugins/lib/libmlp.so','dcd938e6bb78bedb99e3afbd86043f18cf7e4915690b6d3250b6ca526a9e29f2','1.0.0',3);
INSERT INTO plugins VALUES(3,'loss','mse','losses','/work/main/build/plugins/lib/liblosses.so','70b451129d66352cd5c8cb4169d759c525221404e9a94f5ecaa873a93a55ead5','1.0.0',3);
INSERT INTO plugins VALUES(3,'dataset','synthetic_regression','datasets','/work/main/build/plugins/lib/libdatasets.so','1eeea122f4b413320aea005dfda3a6164d9295528f6485bed54e605e91693a7f','1.0.0',3);
INSERT INTO plugins VALUES(3,'hook','evaluate','image_hooks','/work/main/build/plugins/lib/libimage_hooks.so','fadc4ce5346101247428ad234cb4e67fd1f00a1834f0fddeb3f3592ca30d9f7d','1.0.0',3);
CREATE TABLE summaries (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  tag TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  PRIMARY KEY (run_id, tag, step)
) WITHOUT ROWID;
INSERT INTO summaries VALUES(1,'eval/mse',0,0.33655856549739837646,1796442388.8992800712);
INSERT INTO summaries VALUES(1,'eval/mse',15,0.35775524377822875976,1796442388.9050843714);
INSERT INTO summaries VALUES(1,'eval/mse',20,0.37776271626353263854,1796442388.9076852798);
INSERT INTO summaries VALUES(1,'eval/mse',30,0.4417179785668849945,1796442389.4073696136);
INSERT INTO summaries VALUES(1,'loss/mse',0,0.38537636399269104003,1796442388.9014413356);
INSERT INTO summaries VALUES(1,'loss/mse',10,0.15144748985767364501,1796442388.90411067);
INSERT INTO summaries VALUES(1,'loss/mse',19,0.11971978098154067993,1796442388.907463789);
INSERT INTO summaries VALUES(1,'loss/mse',20,0.11194415390491485595,1796442389.4053902626);
INSERT INTO summaries VALUES(1,'loss/mse',29,0.076552383601665496826,1796442389.4075820445);
INSERT INTO summaries VALUES(1,'lr/adam',0,0.0010000000000000000208,1796442388.9014425277);
INSERT INTO summaries VALUES(1,'lr/adam',10,0.0010000000000000000208,1796442388.9041113853);
INSERT INTO summaries VALUES(1,'lr/adam',19,0.0010000000000000000208,1796442388.9074671268);
INSERT INTO summaries VALUES(1,'lr/adam',20,0.0010000000000000000208,1796442389.4053921699);
INSERT INTO summaries VALUES(1,'lr/adam',29,0.0010000000000000000208,1796442389.407582283);
INSERT INTO summaries VALUES(1,'time/step_ms',0,2.1332729999999999748,1796442388.9014427661);
INSERT INTO summaries VALUES(1,'time/step_ms',10,0.26766839999999997301,1796442388.9041121006);
INSERT INTO summaries VALUES(1,'time/step_ms',19,0.36924655555555552233,1796442388.9074676036);
INSERT INTO summaries VALUES(1,'time/step_ms',20,1.1116880000000000094,1796442389.4053924083);
INSERT INTO summaries VALUES(1,'time/step_ms',29,0.24398522222222218669,1796442389.4075825214);
INSERT INTO summaries VALUES(2,'eval/mse',0,0.33655856549739837646,1796442389.9278385639);
INSERT INTO summaries VALUES(2,'eval/mse',15,0.50647731870412826538,1796442389.9325096607);
INSERT INTO summaries VALUES(2,'eval/mse',30,0.41517425328493118286,1796442389.9373023509);
INSERT INTO summaries VALUES(2,'loss/mse',0,0.38537636399269104003,1796442389.9289529323);
INSERT INTO summaries VALUES(2,'loss/mse',10,0.046305056661367416381,1796442389.9316966533);
INSERT INTO summaries VALUES(2,'loss/mse',20,0.015308953821659088134,1796442389.9355368614);
INSERT INTO summaries VALUES(2,'loss/mse',29,0.012466110289096832275,1796442389.9378781318);
INSERT INTO summaries VALUES(2,'lr/adam',0,0.010000000000000000208,1796442389.9289546013);
INSERT INTO summaries VALUES(2,'lr/adam',10,0.010000000000000000208,1796442389.931697607);
INSERT INTO summaries VALUES(2,'lr/adam',20,0.010000000000000000208,1796442389.9355382919);
INSERT INTO summaries VALUES(2,'lr/adam',29,0.010000000000000000208,1796442389.9378786086);
INSERT INTO summaries VALUES(2,'time/step_ms',0,1.1010429999999999939,1796442389.9289553165);
INSERT INTO summaries VALUES(2,'time/step_ms',10,0.27474399999999998822,1796442389.9316978454);
INSERT INTO summaries VALUES(2,'time/step_ms',20,0.38404150000000003561,1796442389.9355387687);
INSERT INTO summaries VALUES(2,'time/step_ms',29,0.26015155555555558031,1796442389.9378788471);
INSERT INTO summaries VALUES(3,'eval/mse',0,0.33655856549739837646,1796442390.6282305717);
INSERT INTO summaries VALUES(3,'loss/mse',0,0.38537636399269104003,1796442390.6292147636);
INSERT INTO summaries VALUES(3,'lr/adam',0,1000000.0,1796442390.6292157173);
INSERT INTO summaries VALUES(3,'time/step_ms',0,0.9655610000000000026,1796442390.6292161941);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  time REAL NOT NULL,
  step INTEGER,
  kind TEXT NOT NULL,
  message TEXT
);
INSERT INTO events VALUES(1,1,1796442388.8984439373,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(2,1,1796442388.8993062972,0,'start','run mlp starts at step 0 of 20');
INSERT INTO events VALUES(3,1,1796442388.907075882,10,'save','saved step 10 to /tmp/v6/runs/mlp/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(4,1,1796442388.9098074436,20,'save','saved step 20 to /tmp/v6/runs/mlp/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(5,1,1796442388.9098932742,20,'stop','finished at step 20 after 0.0 s');
INSERT INTO events VALUES(6,1,1796442389.4021053313,NULL,'resume','resuming run mlp (it was completed) with a changed experiment: experiment.max_steps');
INSERT INTO events VALUES(7,1,1796442389.4042634964,20,'restore','restored step 20 from /tmp/v6/runs/mlp/checkpoints/ckpt-20.kiln');
INSERT INTO events VALUES(8,1,1796442389.4042768478,20,'start','run mlp starts at step 20 of 30');
INSERT INTO events VALUES(9,1,1796442389.4108717441,30,'save','saved step 30 to /tmp/v6/runs/mlp/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(10,1,1796442389.4109785556,30,'stop','finished at step 30 after 0.0 s');
INSERT INTO events VALUES(11,2,1796442389.9270792008,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(12,2,1796442389.9278545379,0,'start','run mlp-2 starts at step 0 of 30');
INSERT INTO events VALUES(13,2,1796442389.9348068236,10,'save','saved step 10 to /tmp/v6/runs/mlp-2/checkpoints/ckpt-10.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(14,2,1796442389.9376158713,20,'save','saved step 20 to /tmp/v6/runs/mlp-2/checkpoints/ckpt-20.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(15,2,1796442389.9400250911,30,'save','saved step 30 to /tmp/v6/runs/mlp-2/checkpoints/ckpt-30.kiln (0.1 MB, steps)');
INSERT INTO events VALUES(16,2,1796442389.9400792121,30,'stop','finished at step 30 after 0.0 s');
INSERT INTO events VALUES(17,3,1796442390.6277644633,0,'initialize','no checkpoint yet: parameters initialized from the seed');
INSERT INTO events VALUES(18,3,1796442390.6282494067,0,'start','run mlp-3 starts at step 0 of 30');
INSERT INTO events VALUES(19,3,1796442390.6294510364,1,'nan','step 1, phase adam: loss mse is not finite');
INSERT INTO events VALUES(20,3,1796442390.629543066,1,'failure','step 1, phase adam: loss mse is not finite (on_nan = "stop")');
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
INSERT INTO checkpoints VALUES(1,1,10,'/tmp/v6/runs/mlp/checkpoints/ckpt-10.kiln',70038,'ae3dd47124cb0a91247adc86e4c73aa785779d93aa93f0059e028238d3622ff6',1796442388.9037070274,'steps',NULL,1796442389.4075062274);
INSERT INTO checkpoints VALUES(2,1,20,'/tmp/v6/runs/mlp/checkpoints/ckpt-20.kiln',70038,'bb5bb983541047bfba140664c8a73a8575d3c662b346b8fa0c45131fa290bf40',1796442388.9073741436,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(3,1,30,'/tmp/v6/runs/mlp/checkpoints/ckpt-30.kiln',70038,'a9215de955af15dc176be024a82a5efd2cc9ae978ce2108a402f0c0760b89dda',1796442389.4075062274,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(4,2,10,'/tmp/v6/runs/mlp-2/checkpoints/ckpt-10.kiln',70038,'83d0032602323f6743a34c7e084a9d603460c87a33e2eb74ac5211254daf120c',1796442389.9312725067,'steps',NULL,1796442389.9378178119);
INSERT INTO checkpoints VALUES(5,2,20,'/tmp/v6/runs/mlp-2/checkpoints/ckpt-20.kiln',70038,'f4449e12cd751d3fa5a6fdcb58f7be9b75206068566fc08463eacb68c88dd801',1796442389.9350450039,'steps','max_to_keep',NULL);
INSERT INTO checkpoints VALUES(6,2,30,'/tmp/v6/runs/mlp-2/checkpoints/ckpt-30.kiln',70038,'9dcfdbb1b06d6b65b5af9fe2d20478263dede5aef4e4148465010ee68da61a66',1796442389.9378178119,'steps','max_to_keep',NULL);
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
CREATE TABLE summary_directions (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  pattern TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('min', 'max')),
  source TEXT NOT NULL CHECK (source IN ('experiment', 'hook')),
  PRIMARY KEY (run_id, pattern, source)
) WITHOUT ROWID;
INSERT INTO summary_directions VALUES(2,'eval/*','max','experiment');
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
CREATE VIEW metrics_best AS
SELECT d.run_id, d.run, d.tag, d.min_value, d.min_step, d.max_value, d.max_step, d.direction,
       CASE d.direction WHEN 'max' THEN d.max_value ELSE d.min_value END AS best_value,
       CASE d.direction WHEN 'max' THEN d.max_step ELSE d.min_step END AS best_step
FROM (SELECT b.run_id, b.run, b.tag,
             b.min_value,
             (SELECT min(m.step) FROM summaries m
              WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.min_value) AS min_step,
             b.max_value,
             (SELECT min(m.step) FROM summaries m
              WHERE m.run_id = b.run_id AND m.tag = b.tag AND m.value = b.max_value) AS max_step,
             b.direction
      FROM (SELECT l.run_id, l.run, l.tag,
                   (SELECT min(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS min_value,
                   (SELECT max(m.value) FROM summaries m WHERE m.run_id = l.run_id AND m.tag = l.tag) AS max_value,
                   coalesce((SELECT rule.direction FROM summary_directions rule
                             WHERE rule.run_id = l.run_id
                               AND (rule.pattern = l.tag
                                    OR (substr(rule.pattern, -1) = '*'
                                        AND substr(l.tag, 1, length(rule.pattern) - 1) = substr(rule.pattern, 1, length(rule.pattern) - 1)))
                             ORDER BY substr(rule.pattern, -1) = '*', length(rule.pattern) DESC, rule.source = 'experiment' DESC
                             LIMIT 1), 'min') AS direction
            FROM metrics_last l) AS b) AS d;
COMMIT;
PRAGMA user_version=6;
