import { Module } from '@nestjs/common';
import { JobPublisher } from './job-publisher.js';
import { Outbox } from './outbox.js';

@Module({ providers: [JobPublisher, Outbox], exports: [JobPublisher, Outbox] })
export class DispatchModule {}
