"""A read-only web explorer for one node, over its RPC: `dlt explorer --node NAME`."""
