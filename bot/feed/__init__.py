"""The live feed: the WebSocket client and the simulator."""
