"""Hashed static file names for production, ES module imports included."""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class ModuleManifestStaticFilesStorage(ManifestStaticFilesStorage):
    """ManifestStaticFilesStorage that also rewrites `import ... from "./x.js"`.

    The dashboard and the viewer pages are ES modules. Without the rewrite a hashed
    dashboard.<hash>.js would import the unhashed dom.js, which nginx caches
    for 5 minutes and which may belong to another release than the page.
    """

    support_js_module_import_aggregation = True
