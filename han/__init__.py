"""Hierarchical Attention Networks (Yang et al., NAACL 2016) on TensorFlow 2 / Keras 3."""

try:  # written by setuptools-scm when the package is installed: 0.1.devN+g<commit>
    from han._version import __version__
except ImportError:  # a checkout never installed (PYTHONPATH=.): the distribution's, if any
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("han-attention")
    except PackageNotFoundError:
        __version__ = "0+unknown"
