"""Raw SQL about the row a query selects, that still works inside a subquery.

`RawSQL` text naming the table ("proposals_proposal"."id") breaks once Django nests the
query and renames the table (U0). Here `{row}` stands for the table's alias in whichever
query the expression ends up compiled in.
"""

from typing import Any

from django.db.models import Expression, Field


class RowSQL(Expression):
    def __init__(self, template: str, params: list[Any], *, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.template, self.params = template, list(params)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.template!r}, {self.params!r})"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        row = compiler.quote_name_unless_alias(compiler.query.base_table)
        return self.template.format(row=row), self.params

    def get_group_by_cols(self) -> list[Expression]:
        return [self]
