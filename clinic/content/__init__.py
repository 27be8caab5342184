"""Tools over the editors' content (content/): load, check, preview, build, publish, find gaps.
Developers edit this code; editors edit content/ and run the tools through make."""
