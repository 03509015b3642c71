"""Admin forms of the register. They limit choices to the user's scope; services still check everything."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from points.admin.forms import villages_for
from points.models import VillageGroup
from points.register.import_export import MAX_BYTES
from points.scope import Capability


class HouseholdForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        villages = villages_for(self.for_user, Capability.CHANGE_REGISTER)
        if "village" in self.fields:
            self.fields["village"].queryset = villages
            if villages.count() == 1 and not self.instance.pk:
                self.fields["village"].initial = villages.first()
        if "group" in self.fields:
            self.fields["group"].queryset = VillageGroup.objects.filter(village__in=villages).select_related("village")
            self.fields["group"].label_from_instance = lambda g: f"{g.village.name} · {g.name}"


class VillageGroupForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "village" in self.fields:
            self.fields["village"].queryset = villages_for(self.for_user, Capability.CHANGE_REGISTER)


class ArchiveForm(forms.Form):
    reason = forms.CharField(label=_("归档原因"), max_length=200, help_text=_("如：全家迁出、户口注销"))


class VillageChoiceForm(forms.Form):
    village = forms.ModelChoiceField(label=_("村"), queryset=None, empty_label=None)

    def __init__(self, *args, user, capability=Capability.IMPORT_REGISTER, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages_for(user, capability)


class ImportForm(VillageChoiceForm):
    file = forms.FileField(
        label=_("户籍文件"),
        help_text=_("Excel (.xlsx) 或 CSV 文件，不超过 2 MB，列名与模板一致"),
        allow_empty_file=True,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("文件超过 2 MB，请分批导入"))
        return upload
