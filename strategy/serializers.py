from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from strategy.models import District, Strategy, Theme
from strategy.selectors import section_tree


class ThemeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)

    class Meta:
        model = Theme
        fields = ["slug", "name", "description"]


class DistrictSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = District
        fields = ["slug", "name"]


class StrategyListSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)

    class Meta:
        model = Strategy
        fields = [
            "slug",
            "title",
            "status",
            "opens_at",
            "closes_at",
            "answer_deadline_days",
            "support_threshold",
        ]


class SectionSerializer(serializers.Serializer):
    """Schema of one node of the tree; the data comes ready-made from section_tree."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    children = serializers.ListField(child=serializers.DictField())


class StrategyDetailSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    sections = serializers.SerializerMethodField()

    class Meta:
        model = Strategy
        fields = [
            "slug",
            "title",
            "description",
            "status",
            "opens_at",
            "closes_at",
            "answer_deadline_days",
            "support_threshold",
            "sections",
        ]

    @extend_schema_field(SectionSerializer(many=True))
    def get_sections(self, strategy: Strategy) -> list[dict[str, Any]]:
        return section_tree(strategy=strategy)
