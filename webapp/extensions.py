"""Flask extensions, created unbound and initialised by the app factory."""
from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from engine.persistence.migrate import MIGRATIONS_DIR
from engine.persistence.models import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
migrate = Migrate(directory=str(MIGRATIONS_DIR))
