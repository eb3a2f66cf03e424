<?php
/**
 * Prints one line per class, method, parameter, property and function of the tiki_tokens API,
 * as PHP's reflection sees them:
 *   php -n -d extension=… reflect.php ext          the loaded extension
 *   php -n reflect.php stub php/stubs/….stub.php   the stub file (without the extension)
 * tests/php_api.rs compares the two sets of lines.
 */

[$mode, $stub] = [$argv[1] ?? '', $argv[2] ?? ''];
if ($mode === 'ext') {
    $ext = new ReflectionExtension('tiki_tokens');
    $classes = $ext->getClassNames();
    $functions = array_keys($ext->getFunctions());
} elseif ($mode === 'stub') {
    if (extension_loaded('tiki_tokens')) {
        fwrite(STDERR, "load the stub without the extension\n");
        exit(2);
    }
    $beforeClasses = get_declared_classes();
    $beforeFunctions = get_defined_functions()['user'];
    require $stub;
    $classes = array_values(array_diff(get_declared_classes(), $beforeClasses));
    $functions = array_values(array_diff(get_defined_functions()['user'], $beforeFunctions));
} else {
    fwrite(STDERR, "usage: reflect.php ext | stub FILE\n");
    exit(2);
}

function type_text(?ReflectionType $t): string
{
    return $t === null ? '-' : (string) $t;
}

function params_text(ReflectionFunctionAbstract $f): array
{
    $out = [];
    foreach ($f->getParameters() as $p) {
        $default = '';
        if ($p->isDefaultValueAvailable()) {
            $default = ' = ' . str_replace("\n", '', var_export($p->getDefaultValue(), true));
        }
        $out[] = sprintf(
            '#%d %s $%s%s%s%s',
            $p->getPosition(),
            type_text($p->getType()),
            $p->getName(),
            $p->isOptional() ? ' optional' : '',
            $p->isPassedByReference() ? ' by-ref' : '',
            $default
        );
    }
    return $out;
}

$lines = [];
foreach ($classes as $name) {
    $c = new ReflectionClass($name);
    $parent = $c->getParentClass();
    $lines[] = sprintf(
        'class %s%s%s%s',
        $c->getName(),
        $parent ? ' extends ' . $parent->getName() : '',
        $c->isFinal() ? ' final' : '',
        $c->isAbstract() ? ' abstract' : ''
    );
    foreach ($c->getMethods() as $m) {
        if ($m->getDeclaringClass()->getName() !== $c->getName()) {
            continue;
        }
        $mods = implode(' ', Reflection::getModifierNames($m->getModifiers()));
        $sig = "method {$c->getName()}::{$m->getName()} [$mods] : " . type_text($m->getReturnType());
        $lines[] = $sig;
        foreach (params_text($m) as $p) {
            $lines[] = "param {$c->getName()}::{$m->getName()} $p";
        }
    }
    foreach ($c->getProperties() as $p) {
        if ($p->getDeclaringClass()->getName() !== $c->getName()) {
            continue;
        }
        $mods = implode(' ', Reflection::getModifierNames($p->getModifiers()));
        $lines[] = "property {$c->getName()}::\${$p->getName()} [$mods] : " . type_text($p->getType());
    }
}
foreach ($functions as $name) {
    $f = new ReflectionFunction($name);
    $lines[] = "function {$f->getName()} : " . type_text($f->getReturnType());
    foreach (params_text($f) as $p) {
        $lines[] = "param {$f->getName()} $p";
    }
}
sort($lines);
echo implode("\n", $lines), "\n";
