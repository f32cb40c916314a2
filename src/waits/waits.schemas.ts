import { ApiProperty } from '@nestjs/swagger';

/** What a callback or a signal answers (documentation only; WaitAnswers produces the bodies). */
export class AnswerReceiptSchema {
  @ApiProperty({ format: 'uuid' })
  sagaId: string;

  @ApiProperty({ required: false, description: 'Callbacks: the run of the attempt' })
  run?: number;

  @ApiProperty({ required: false, enum: ['action', 'compensation'], description: 'Callbacks: the phase of the attempt' })
  phase?: string;

  @ApiProperty({ required: false, description: 'Callbacks: the attempt' })
  attempt?: number;

  @ApiProperty({ required: false, enum: ['succeeded', 'failed'], description: 'Callbacks: what was reported' })
  status?: string;

  @ApiProperty({ required: false, description: 'Signals: the signal' })
  signal?: string;

  @ApiProperty({ required: false, description: 'Signals: the step that waits for it' })
  step?: string;
}
