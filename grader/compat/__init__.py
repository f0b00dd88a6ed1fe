"""Which TensorFlow versions a submission, or the references, work on, and why the others fail.

``matrix`` names the versions (and imports nothing heavy, so ``noxfile.py`` reads it too);
``environments`` builds one virtual environment per version; ``explain`` turns an error into
a line an instructor can act on; ``table`` is the result; ``run`` grades across the matrix.
"""


class CompatError(RuntimeError):
    """The compatibility run cannot go on: no uv, no source tree, or an install failed."""
