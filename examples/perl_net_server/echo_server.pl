#!/usr/bin/perl
# An echo server on Net::Server::Fork (CPAN, Debian's libnet-server-perl): a process per connection.
use strict;
use warnings;

package EchoServer;
use base qw(Net::Server::Fork);

sub process_request {
    my $self = shift;
    while (my $line = <STDIN>) {
        print $line;
    }
}

package main;
EchoServer->run(port => "127.0.0.1:$ARGV[0]", ipv => 4, log_level => 0, background => 0, setsid => 0);
