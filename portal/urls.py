from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from portal.views import mottos, notice, residents, search, site

portal_patterns = (
    [
        path("login/", site.LoginView.as_view(), name="login"),
        path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
        path("me/", residents.me, name="me"),
        path("me/statement/", residents.statement, name="statement"),
        path("me/claims/", residents.claims, name="claims"),
        path("me/claims/new/", residents.claim_new, name="claim_new"),
        path("me/objections/", residents.objections, name="objections"),
        path("me/objections/new/<int:transfer_id>/", residents.objection_new, name="objection_new"),
        path("notice/<slug:village_code>/<str:period>/", notice.notice, name="notice"),
        path("care-mode/", site.care_toggle, name="care_mode"),
        path("search/", search.search, name="search"),
        path("mottos/submit/", mottos.submit, name="motto_submit"),
        # The store and campaign pages keep their routes beside their views (portal/views/store.py,
        # portal/views/campaigns.py); included without a namespace, their names are portal:store and so on.
        path("", include("portal.views.store")),
        path("", include("portal.views.campaigns")),
    ],
    "portal",
)

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("api/v1/", include("portal.api.urls")),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include(portal_patterns)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns.append(path("", include(wagtail_urls)))
