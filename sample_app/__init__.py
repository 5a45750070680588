"""obsstack's sample service: an orders API instrumented by `obsstack_fastapi`."""
