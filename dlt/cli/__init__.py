"""The `dlt` command line: offline tools now, node and network commands as they are added."""
