"""Serializer fields that hold JSON types to the contract: a wrong type is a 400."""

from typing import Any

from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A list of references must be a JSON list, not an object whose keys happen to match.

    It is also short: each element costs a query, and a list of 80,000 themes would
    hold a worker for a minute. Repeats count once.
    """

    MAX_ITEMS = 50

    def to_internal_value(self, data: Any) -> list:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if len(data) > self.MAX_ITEMS:
            raise serializers.ValidationError(f"At most {self.MAX_ITEMS} items.")
        deduplicated: list = []
        for item in data:
            if item not in deduplicated:
                deduplicated.append(item)
        data = deduplicated
        return super().to_internal_value(data)


class _StrictManyMixin:
    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> StrictManyRelatedField:
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update({k: v for k, v in kwargs.items() if k in MANY_RELATION_KWARGS})
        return StrictManyRelatedField(**list_kwargs)


class StrictSlugRelatedField(_StrictManyMixin, serializers.SlugRelatedField):
    def to_internal_value(self, data: Any) -> Any:
        # PostgreSQL refuses NUL in any text parameter: stop it before the query.
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(_StrictManyMixin, serializers.PrimaryKeyRelatedField):
    """An id is a JSON integer: not "12", not 12.5, not 1e400."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)
