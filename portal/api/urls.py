"""Mounted at ``/api/v1/`` by ``portal.urls``; the URL namespace is ``api-v1``."""

from django.urls import path

from portal.api import api

urlpatterns = [path("", api.urls)]
