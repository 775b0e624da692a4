from typing import Any

from django.contrib.auth import authenticate, logout
from django.http import FileResponse, HttpResponse, JsonResponse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civic.accounts import serializers
from civic.accounts.export import data_export_of, data_export_ready, data_export_request
from civic.accounts.models import DataExport
from civic.accounts.permissions import requires
from civic.accounts.services import (
    token_issue,
    token_revoke,
    user_accept_terms,
    user_delete,
    user_register,
    user_resend_verification,
    user_verify_email,
)
from civic.clients import ScopedRateThrottle


class RegisterApi(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_scope = "register"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(
        request=serializers.RegisterSerializer,
        responses={201: serializers.RegisteredUserSerializer},
    )
    def post(self, request: Request) -> Response:
        data = serializers.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(
            **data.validated_data, language=(translation.get_language() or "ru")[:2]
        )
        return Response(
            serializers.RegisteredUserSerializer(user).data, status=status.HTTP_201_CREATED
        )


class VerifyEmailApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=serializers.VerifyEmailSerializer,
        responses={200: serializers.RegisteredUserSerializer},
    )
    def post(self, request: Request) -> Response:
        data = serializers.VerifyEmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_verify_email(token=data.validated_data["token"])
        return Response(serializers.RegisteredUserSerializer(user).data)


class ResendVerificationApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    # Each call mails the account's address: counted with registrations.
    throttle_scope = "register"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request) -> Response:
        user_resend_verification(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


class TokenApi(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_scope = "login"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(
        request=serializers.TokenRequestSerializer, responses={200: serializers.TokenSerializer}
    )
    def post(self, request: Request) -> Response:
        data = serializers.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            email=data.validated_data["email"].lower(),
            password=data.validated_data["password"],
        )
        if user is None:
            raise AuthenticationFailed("Email or password is wrong.")
        return Response({"token": token_issue(user=user).key})


class LogoutApi(APIView):
    """Sign-out: the token in use stops working (a browser's session ends instead)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            token_revoke(key=request.auth.key)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "login"

    def get_throttles(self) -> list[Any]:
        # Deleting asks for the password: counted with sign-ins, so a stolen session
        # cannot use it to guess the password.
        return [ScopedRateThrottle()] if self.request.method == "DELETE" else []

    @extend_schema(responses={200: serializers.MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(serializers.MeSerializer(request.user).data)

    @extend_schema(
        request=serializers.DeleteAccountSerializer,
        responses={
            204: None,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="No password given."),
            403: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Wrong password (`wrong_password`), or a staff account "
                "(`staff_account`), which an administrator closes.",
            ),
        },
    )
    def delete(self, request: Request) -> Response:
        """Delete the account: sign-in data, email, tokens and sessions go; proposals stay,
        shown as by "a former resident"; reactions go."""
        data = serializers.DeleteAccountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_delete(user=request.user, password=data.validated_data["password"])
        if not isinstance(request.auth, Token):
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeConsentApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=serializers.AcceptTermsSerializer, responses={200: serializers.MeSerializer}
    )
    def post(self, request: Request) -> Response:
        """Accept the terms of use and privacy notice in force (CIVIC_TERMS_VERSION)."""
        data = serializers.AcceptTermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_accept_terms(user=request.user, **data.validated_data)
        return Response(serializers.MeSerializer(user).data)


class MeExportApi(APIView):
    permission_classes = [requires("accounts.export_own_data")]
    throttle_scope = "export"

    def get_throttles(self) -> list[Any]:
        # Each request rebuilds the file: limited; reading it is not.
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(request=None, responses={202: serializers.DataExportStatusSerializer})
    def post(self, request: Request) -> Response:
        """Ask for the JSON file of everything kept about the account (built in the
        background; asking again rebuilds it)."""
        export = data_export_request(user=request.user)
        return Response({"status": export.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The file: account, proposals, events, reactions, answer_emails.",
            ),
            202: serializers.DataExportStatusSerializer,
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="Never asked for, or expired."),
            409: OpenApiResponse(
                OpenApiTypes.OBJECT, description="The build failed (`export_failed`)."
            ),
        }
    )
    def get(self, request: Request) -> HttpResponse:
        """The file once built (200), its status while it builds (202), 404 if never asked
        for (or removed after CIVIC_EXPORT_RETENTION_DAYS), 409 if the build failed."""
        return data_export_response(request.user)


def data_export_response(user: Any) -> HttpResponse:
    """The owner's data file, or where its build stands; the pages serve it the same way."""
    export = data_export_of(user=user)
    if export is None:
        return JsonResponse(
            {"detail": "No data export was asked for.", "code": "not_found"}, status=404
        )
    if export.status == DataExport.Status.FAILED:
        return JsonResponse(
            {
                "detail": "The file could not be built; ask for it again.",
                "code": "export_failed",
                "status": export.status,
            },
            status=409,
        )
    if export.status == DataExport.Status.DONE and not data_export_ready(export):
        # The file went missing (a lost volume): build it again rather than fail.
        export = data_export_request(user=user)
    if export.status != DataExport.Status.DONE:
        response = JsonResponse({"status": export.status}, status=202)
    else:
        response = FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=f"civic-my-data-{export.finished_at:%Y-%m-%d}.json",
            content_type="application/json",
        )
    # Personal data: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
