"""The summary table's rows and the state of a file being built, as the API shows them."""

from rest_framework import serializers

from proposals.models import Answer, ProposalEvent, SummaryFile


class SummaryRowSerializer(serializers.Serializer):
    """One row of the summary table (the dict selectors.summary_row makes).

    `outcome`, `answer_text` and `answered_at` are null until the city's answer is
    published. `status` tells a publicly rejected proposal (`rejected`, with its
    `rejection_reason`) from one awaiting its answer.
    """

    code = serializers.CharField()
    title = serializers.CharField()
    section_code = serializers.CharField(allow_null=True)
    district = serializers.CharField(allow_null=True)
    themes = serializers.ListField(child=serializers.CharField())
    outcome = serializers.ChoiceField(choices=Answer.Outcome.values, allow_null=True)
    answer_text = serializers.CharField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    # Plain text in the schema: an enum here would be one more choice set named `status`
    # (or a second name for the rejection reasons), renaming the existing ones.
    status = serializers.CharField(help_text="`published` or `rejected`")
    rejection_reason = serializers.CharField(
        allow_null=True,
        help_text="A rejected row's reason: "
        + ", ".join(f"`{reason}`" for reason in ProposalEvent.Reason.values),
    )


class SummaryPageSerializer(serializers.Serializer):
    """A page of rows, as every list of the API pages them."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SummaryRowSerializer(many=True)


class SummaryFileStateSerializer(serializers.Serializer):
    """A file that is not ready yet: the 202 body."""

    # Plain text in the schema, as for the row's status: a second component with the
    # reports' choice set would rename that set's enum.
    status = serializers.CharField(
        help_text=", ".join(f"`{status}`" for status in SummaryFile.Status.values)
    )
    progress = serializers.IntegerField(min_value=0, max_value=100)
