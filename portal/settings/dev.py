from .base import *
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
