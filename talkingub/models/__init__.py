"""Model registry and the interface every synthesis model implements (torch imported lazily)."""
