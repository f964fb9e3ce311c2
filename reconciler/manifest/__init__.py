"""The two file formats, from text: YAML 1.2 parsing with locations (`parsing`), the pydantic models
(`models`), their validation with located problems (`validating`, `documents`), the ``${...}``
reference grammar (`interpolation`) and the JSON Schema for editors (`schema`)."""
