"""What both apps share and neither owns: helpers with no knowledge of rooms,
encoders or pages. Nothing here imports `tracker`, `frontend` or `project`."""
