"""Upstream providers as staff set them up (the model lives in ``app.fulfillment.models``)."""
