#!/bin/sh
# Runs the JavaThreads subject (compiled next to this script at build time).
# usage: java_threads.sh [rounds] [interval_ms]
exec java -Xmx64m -cp "$(dirname "$0")" JavaThreads "$@"
