"""authupload: registration, login and authenticated file upload on bare WSGI.

``create_app(Config(...))`` returns the WSGI application; ``serve.py`` runs it
with waitress. Start reading at app.py.
"""

from .app import create_app
from .config import Config

__all__ = ["create_app", "Config"]
