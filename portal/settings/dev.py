from portal.settings.base import *
from portal.settings.env import env_bool

DEBUG = env_bool("DEBUG", True)
