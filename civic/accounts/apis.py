from django.contrib.auth import authenticate
from django.utils import translation
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from civic.accounts import serializers
from civic.accounts.services import user_register, user_resend_verification, user_verify_email


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
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: serializers.MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(serializers.MeSerializer(request.user).data)
