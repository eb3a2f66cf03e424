<?php
// Stands in for Tiki's upload script (its one POST use of tokens): only the token gate runs.
require __DIR__ . '/token_gate.php';
