"""OTLP receiver settings, the same in the collector's and Tempo's configuration."""

from stack.models import ConfigModel


class Endpoint(ConfigModel):
    endpoint: str


class OTLPProtocols(ConfigModel):
    grpc: Endpoint
    http: Endpoint


class OTLPReceiver(ConfigModel):
    protocols: OTLPProtocols


class Receivers(ConfigModel):
    otlp: OTLPReceiver
