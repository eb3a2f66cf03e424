<?php
// Stands in for a Tiki page script: only the token gate runs.
require __DIR__ . '/token_gate.php';
