"""The following API: follow and unfollow, one's notifications, marking them read."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.pagination import PageNumberPagination
from proposals.following import selectors, serializers, services


class FollowApi(APIView):
    """PUT follows, DELETE stops following, one proposal, section or strategy."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: serializers.FollowSerializer(many=True)})
    def get(self, request: Request) -> Response:
        follows = selectors.follow_list(user=request.user)
        return Response(serializers.FollowSerializer(follows, many=True).data)

    def _set(self, request: Request, following: bool) -> Response:
        data = serializers.FollowRequestSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        follow = services.follow_set(user=request.user, following=following, **data.validated_data)
        if not following:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializers.FollowSerializer(follow).data)

    @extend_schema(
        request=serializers.FollowRequestSerializer, responses={200: serializers.FollowSerializer}
    )
    def put(self, request: Request) -> Response:
        return self._set(request, following=True)

    @extend_schema(request=serializers.FollowRequestSerializer, responses={204: None})
    def delete(self, request: Request) -> Response:
        return self._set(request, following=False)


class NotificationListApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="Only those not read yet."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: serializers.NotificationSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        unread = request.query_params.get("unread", "").lower() in ("1", "true")
        rows = selectors.notification_list(user=request.user, unread=unread)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = serializers.NotificationSerializer(page, many=True).data
        response = paginator.get_paginated_response(data)
        response.data["unread"] = selectors.unread_count(user=request.user)
        return response


class NotificationReadApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=serializers.NotificationReadSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        data = serializers.NotificationReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        marked = services.notifications_mark_read(user=request.user, ids=ids)
        return Response({"marked": marked, "unread": selectors.unread_count(user=request.user)})
