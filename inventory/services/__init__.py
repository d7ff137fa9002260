"""Use cases; each public function opens and owns one transaction and never imports the web framework."""
