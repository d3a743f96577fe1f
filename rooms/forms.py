from django import forms
from django.contrib.auth.forms import UserCreationForm

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
        # Pseudonyms are unique whatever the case, so "Sam" cannot impersonate "sam".
        self.fields["username"].validators.append(self._unique_case_insensitive)

    @staticmethod
    def _unique_case_insensitive(value):
        from django.core.exceptions import ValidationError

        if User.objects.filter(username__iexact=value).exists():
            raise ValidationError("That pseudonym is taken.", code="unique")


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
