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
    district = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "district", "roles", "email_verified"]

    def get_roles(self, user: User) -> list[str]:
        return user_roles(user)
