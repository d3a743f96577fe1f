import os

# Tests run with production-style settings (DEBUG off); only the secret has to be supplied.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
