<?php
// Demo page: which php-fpm pod and child answered.
header('Content-Type: text/plain');
printf("hello from php-fpm %s, child %d\n", gethostname(), getmypid());
