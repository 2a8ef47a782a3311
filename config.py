"""Configuration read from the environment. SQLite under instance/ by default, PostgreSQL by DATABASE_URL."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Both spellings reach the psycopg 3 driver.
        return url.replace("postgres://", "postgresql+psycopg://", 1).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    return f"sqlite:///{BASE_DIR / 'instance' / 'onewindow.db'}"


def _number(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def _secret_key() -> str:
    """SECRET_KEY from the environment, else instance/secret_key (`make run` writes it when missing).

    Without either, a random key for this process only: sessions do not survive a restart and are not
    shared between workers, so production sets one of the two.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = BASE_DIR / "instance" / "secret_key"
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    return secrets.token_hex(32)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = _secret_key()
    # The pages' session: a signed cookie the page scripts cannot read, not sent on cross-site posts.
    SESSION_COOKIE_NAME = "onewindow_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")  # set it behind HTTPS
    PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_HOURS", 10)))
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SQLALCHEMY_DATABASE_URI = _database_url()
    # A pooled connection is checked before each checkout, so a connection the database dropped
    # (restart, failover, pg_terminate_backend) costs no request an error: on PostgreSQL by looking at
    # its socket (no round trip, app/__init__.py), elsewhere by SQLAlchemy's ping.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_RECORD_QUERIES = False
    # Request bodies above this are refused with 413 before anything is parsed.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 2 * 1024 * 1024))
    # A BPMN upload above this is refused with 413.
    BPMN_MAX_BYTES = int(os.environ.get("BPMN_MAX_BYTES", 1024 * 1024))
    # Input hygiene (app/hygiene.py): every JSON body, whatever the endpoint. Beyond these: 422.
    INPUT_MAX_DEPTH = int(os.environ.get("INPUT_MAX_DEPTH", 8))  # containers nested in one body
    INPUT_MAX_KEYS = int(os.environ.get("INPUT_MAX_KEYS", 500))  # keys in one object
    INPUT_MAX_ITEMS = int(os.environ.get("INPUT_MAX_ITEMS", 100_000))  # values in one body, all levels
    INPUT_MAX_STRING = int(os.environ.get("INPUT_MAX_STRING", 10_000))  # characters in one string
    INPUT_MAX_NUMBER = 2**53  # |n| for every number (exact in JSON's doubles); NaN/Infinity refused
    TOKEN_TTL_HOURS = int(os.environ.get("TOKEN_TTL_HOURS", 12))
    # Principals resolved from a token are cached this many seconds per process.
    TOKEN_CACHE_SECONDS = float(os.environ.get("TOKEN_CACHE_SECONDS", 30))
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
    # New passwords: at least this long, and not containing the username (docs/organisation.md).
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 8))
    SCHEDULER_ENABLED = _flag("SCHEDULER_ENABLED")
    SCHEDULER_INTERVAL_SECONDS = int(os.environ.get("SCHEDULER_INTERVAL_SECONDS", 60))
    # A scheduler runner's turn lasts this long unless renewed (before each batch).
    SCHEDULER_LEASE_SECONDS = int(os.environ.get("SCHEDULER_LEASE_SECONDS", 120))
    # PostgreSQL: no statement, and no transaction left idle, may hold locks longer than this (ms).
    DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", 30_000))
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = int(os.environ.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000))
    BPMN_DIR = os.environ.get("BPMN_DIR", str(BASE_DIR / "bpmn"))
    # Warning thresholds (working days before the promised due date at which "warning" starts).
    WARNING_DAYS_BEFORE_PROMISED = int(os.environ.get("WARNING_DAYS_BEFORE_PROMISED", 1))
    # Where notifications go out (app/notifications/channels.py): "log" writes them to the log.
    NOTIFY_CHANNEL = os.environ.get("NOTIFY_CHANNEL", "log")
    # The budget of every engine run (app/engine/budget.py): unset keys keep its defaults.
    ENGINE_MAX_STEPS = _number("ENGINE_MAX_STEPS")
    ENGINE_MAX_TASKS = _number("ENGINE_MAX_TASKS")
    ENGINE_MAX_SECONDS = _number("ENGINE_MAX_SECONDS")
    ENGINE_MAX_INSTANCES = _number("ENGINE_MAX_INSTANCES")
    ENGINE_MAX_TIMER_REPEATS = _number("ENGINE_MAX_TIMER_REPEATS")
    ENGINE_MAX_HORIZON_DAYS = _number("ENGINE_MAX_HORIZON_DAYS")
    ENGINE_MAX_MEMORY_MB = _number("ENGINE_MAX_MEMORY_MB")
    # A dry run runs in a child process stopped after this many seconds.
    SIMULATION_MAX_SECONDS = float(os.environ.get("SIMULATION_MAX_SECONDS", 10))
    # Documents (app/documents): the number pattern ({department}{series}〔{year}〕{seq:04d}号 unless set),
    # the folder of seal images (<department code>.png), and the days an applicant has to correct.
    DOCUMENT_NUMBER_PATTERN = os.environ.get("DOCUMENT_NUMBER_PATTERN")
    DOCUMENT_SEAL_DIR = os.environ.get("DOCUMENT_SEAL_DIR", str(BASE_DIR / "instance" / "seals"))
    CORRECTION_LAPSE_DAYS = int(os.environ.get("CORRECTION_LAPSE_DAYS", 30))
    API_TITLE = "OneWindow 一窗 API"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL_RESOLVED", "sqlite://")
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    TOKEN_CACHE_SECONDS = 0.0
    SCHEDULER_ENABLED = False
