/** A tracing export worker that fails to start (its script throws while loading). */
'use strict';
throw new Error('tracing worker fault: failed to start');
