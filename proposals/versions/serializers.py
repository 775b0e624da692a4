from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civic.fields import StrictCharField
from strategy.versions import ADDED, CHANGED, DELETE, EQUAL, INSERT, REMOVED, UNCHANGED

CODE_MAX = 50


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    imported_at = serializers.DateTimeField()
    changed_sections = serializers.ListField(child=serializers.CharField())


class DiffRunSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=[EQUAL, INSERT, DELETE])
    text = serializers.CharField()


class SectionChangeSerializer(serializers.Serializer):
    section_code = serializers.CharField()
    # The section's title in the later version (the earlier one's, for a removed section),
    # in the requester's language: something to show beside the code.
    title = serializers.CharField()
    change = serializers.ChoiceField(choices=[ADDED, REMOVED, CHANGED, UNCHANGED])
    diff = DiffRunSerializer(many=True)
    proposals = serializers.ListField(child=serializers.CharField())


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class ProposalReferenceField(serializers.Field):
    """A proposal's code (ALA2050-000123) or its id (a JSON integer)."""

    default_error_messages = {
        "invalid": "A proposal code such as ALA2050-000123, or a proposal id.",
    }

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if data < 1:
                self.fail("invalid")
            return str(data)
        # PostgreSQL refuses NUL in a text parameter: stop it (and other control
        # characters, which no code holds) before any query.
        if not isinstance(data, str) or not data.strip() or len(data) > 40:
            self.fail("invalid")
        if any(ord(char) < 32 for char in data):
            self.fail("invalid")
        return data.strip()

    def to_representation(self, value: Any) -> Any:
        return value


class LinkRequestSerializer(serializers.Serializer):
    proposal = ProposalReferenceField()
    section_code = StrictCharField(max_length=CODE_MAX)


class LinkSerializer(serializers.Serializer):
    proposal = serializers.CharField(help_text="The proposal's code")
    version = serializers.IntegerField()
    section_code = serializers.CharField()
