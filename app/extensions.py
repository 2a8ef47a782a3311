"""Extensions created unbound; create_app binds them. Nothing here connects at import time."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.errors import http_error_response
from app.openapi import ProblemResponses

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ProblemApi(Api):
    """flask-smorest Api whose HTTP errors (webargs 422 included) are problem+json."""

    def handle_http_exception(self, error):
        return http_error_response(error)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = ProblemApi(spec_kwargs={"extra_plugins": [ProblemResponses()]})


@contextmanager
def unit_of_work() -> Iterator[None]:
    """The one transaction owner: commit on success, roll back on any error.

    Requests (see app/__init__.py), CLI commands and scheduler jobs all end their work here.
    """
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
