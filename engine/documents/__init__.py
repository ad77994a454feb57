"""Official documents: Nghị định 30/2020 formatting, register numbers, DOCX templates, rendering, PDF.

`issuer.DocumentIssuer.render` is the `document.render` operation the worker calls; the other
modules are its parts and are usable on their own (publishing runs `templates.check_template`).
No Flask here, like the rest of `engine/`.
"""
