import unicodedata

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.db.models import Q

from . import lookalikes
from .models import User


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "country", "email")
        help_texts = {"username": "2-32 characters. Others see only this name."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].required = True
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["username"].validators.append(self._nobody_elses)

    @staticmethod
    def _nobody_elses(value):
        """Nobody can pass for someone else, a facilitator above all: not by case ("Sam" for
        "sam"), by a letter from another alphabet ("mаple", Cyrillic а) or by a name that shows
        nothing."""
        limit = User._meta.get_field("username").max_length
        # The model stores the name after NFKC (AbstractUser.clean), which runs after the length
        # check on what was typed: "ﷺ" becomes 18 characters, and PostgreSQL refused the row.
        if len(unicodedata.normalize("NFKC", value)) > limit:
            raise ValidationError(f"A pseudonym can be at most {limit} characters.", code="max_length")
        if lookalikes.visible_length(value) < 2:
            raise ValidationError("A pseudonym needs at least 2 characters that show.", code="invisible")
        if lookalikes.mixes_lookalike_scripts(value):
            raise ValidationError("Please keep to one alphabet: this name mixes letters that look alike "
                                  "but come from different alphabets.", code="mixed_scripts")
        as_written, in_capitals = lookalikes.keys(value)
        if User.objects.filter(Q(skeleton=as_written) | Q(skeleton_capitals=in_capitals)).exists():
            raise ValidationError("That pseudonym is taken, or looks too much like one that is.", code="unique")


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label="Your password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.", code="wrong_password")
        return password
