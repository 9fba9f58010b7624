// Translation unit that owns the precompiled torch header every torch target reuses.
