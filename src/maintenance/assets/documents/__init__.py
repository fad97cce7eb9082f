"""Documents attached to an asset (drawings, manuals, certificates, photos): models, service, routes."""
