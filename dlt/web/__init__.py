"""HTTP serving shared by the network map service and the explorer: ASGI apps over TLS."""

from dlt.web.serving import AppServer, AppServerError, server_ssl_context

__all__ = ["AppServer", "AppServerError", "server_ssl_context"]
