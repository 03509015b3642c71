"""Settings shared by every environment. Values that differ per deployment come from the environment."""

from datetime import timedelta
from pathlib import Path

from portal.settings.env import env_bool, env_cache, env_database, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-key-only-for-local-use")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "portal",
    "campaigns",
    "points",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "axes",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Response-only: CSP, Permissions-Policy, and Cache-Control: private for signed-in users (portal/middleware.py).
    "portal.middleware.SecurityHeadersMiddleware",
    # Response-only; first so that pages served by the fast path below carry the header too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A stored public page for a visitor who certainly is anonymous, before the rest runs (portal/cache.py).
    "portal.cache.PageCacheFastPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After CSRF, auth and messages: it serves cached public pages to anonymous visitors (portal/cache.py).
    "portal.cache.PageCacheMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a lockout into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"

# The points app keeps each domain's screens in its own folder (points/<domain>/templates, .../static); Django's
# app loaders look only at points/templates and points/static, so the domains' folders are named here.
POINTS_DOMAINS = [BASE_DIR / "points" / domain for domain in ("register", "ledger", "store")]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates", *(domain / "templates" for domain in POINTS_DOMAINS)],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "portal.context_processors.care_mode",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

DATABASES = {"default": env_database("DATABASE_URL", str(BASE_DIR / "db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env_cache("REDIS_URL")}
# Public pages (Wagtail pages, the points notice) stay cached this long unless purged first; 0 turns it off.
HEHE_PAGE_CACHE_SECONDS = env_int("HEHE_PAGE_CACHE_SECONDS", 300)
# An API token stops working this many days after it was issued (a lost phone's token does not live for ever).
HEHE_API_TOKEN_DAYS = env_int("HEHE_API_TOKEN_DAYS", 90, minimum=1)
# Sessions in the database (or Redis through the cache) so app servers hold no state.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTHENTICATION_BACKENDS = [
    # Throttles every sign-in (portal, Wagtail admin, API token) before the real backends run.
    "axes.backends.AxesStandaloneBackend",
    "points.register.auth.ResidentBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes: five failures lock only that identifier *from that address*, and only for a while, so a
# stranger guessing a resident's household number can neither get in nor lock the resident out for good.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_VERBOSE = False
# Axes logs the username it saw; identifiers may be phone numbers, which must never reach a log.
AXES_SENSITIVE_PARAMETERS = ["password", "username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "points.register.auth.axes_username"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]  # each named in itself, for the switch
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_collected"
STATICFILES_DIRS = [domain / "static" for domain in POINTS_DOMAINS if (domain / "static").is_dir()]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "media"))
MEDIA_URL = "/media/"
# Restricted uploads (claim and nomination photos): outside MEDIA_ROOT, served by no URL, only by scoped views.
PRIVATE_MEDIA_ROOT = env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private_media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "points.images.PrivateStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: a register file or a photo larger than this is refused before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 5 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000

WAGTAIL_SITE_NAME = "和合积分"
# Family mottos approved by their village committee publish on the task's authority (portal/workflow_actions.py).
WAGTAIL_FINISH_WORKFLOW_ACTION = "portal.workflow_actions.finish_workflow"
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx"]
# Committees never manage users: Wagtail's user editor lets its holder make itself superuser.
WAGTAIL_PASSWORD_RESET_ENABLED = False

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:me"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
