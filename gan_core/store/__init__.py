"""The run store on disk: one directory per run, its status, metrics, owner and uploads, written so that readers,
crashes and second writers never see half a file.

Owns: files (atomic writes, the exclusive lock), runs (creating, listing and reading runs; the status and its lock;
the metrics database), ownership (who started a run), uploads (a person's files kept while a run uses them), archives
(reading an untrusted zip). May import: gan_core.spec. Stays light: no TensorFlow, Keras, SciPy or scikit-learn.
"""
