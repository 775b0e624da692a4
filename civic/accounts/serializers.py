from rest_framework import serializers

from civic.accounts.models import User
from civic.accounts.selectors import user_roles
from civic.fields import StrictCharField, StrictSlugRelatedField
from strategy.models import District


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, trim_whitespace=False)
    display_name = StrictCharField(max_length=80)
    district = StrictSlugRelatedField(
        slug_field="slug", queryset=District.objects.all(), required=False, allow_null=True
    )
    accept_terms = serializers.BooleanField(
        help_text="Must be true: the terms of use and privacy notice in force are accepted."
    )


class AcceptTermsSerializer(serializers.Serializer):
    accept_terms = serializers.BooleanField(help_text="Must be true.")


class DeleteAccountSerializer(serializers.Serializer):
    password = StrictCharField(max_length=128, trim_whitespace=False, write_only=True)


class DataExportStatusSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="queued, running or done")


class VerifyEmailSerializer(serializers.Serializer):
    token = StrictCharField(max_length=1000)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class RegisteredUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "display_name", "email_verified"]


class MeSerializer(serializers.ModelSerializer):
    # Null for an account that named no district (the schema must say so).
    district = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "district",
            "roles",
            "email_verified",
            "consented_terms_version",
        ]

    def get_roles(self, user: User) -> list[str]:
        return user_roles(user)
